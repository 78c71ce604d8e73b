import { resolve } from 'node:path';
import { writeFileAtomic } from '../core/atomic.ts';
import type { Statement } from '../core/statement.ts';
import { signStatement } from '../sign/bundle.ts';
import type { SigningMode } from '../sign/types.ts';
import { DirectoryStore } from '../store/index.ts';
import { displayPath, type Io } from './io.ts';

/** Flags every verb that produces a bundle takes. */
export const PUBLISH_OPTIONS = {
  store: { type: 'string', default: '.vouch' },
  'no-store': { type: 'boolean' },
  out: { type: 'string' },
} as const;

export interface Published {
  stored: { id: string; path: string } | null;
  out: string | null;
}

/**
 * Signs a Statement and puts the bundle where the user asked: the store
 * (unless --no-store) and/or --out. Both writes are atomic.
 */
export async function signAndPublish(
  statement: Statement,
  mode: SigningMode,
  values: { store: string; 'no-store'?: boolean | undefined; out?: string | undefined },
  io: Io,
): Promise<Published> {
  const bundle = await signStatement(statement, mode);
  const bytes = Buffer.from(`${JSON.stringify(bundle)}\n`, 'utf8');
  let stored: Published['stored'] = null;
  if (!values['no-store']) {
    const store = new DirectoryStore(resolve(io.cwd, values.store));
    const entry = await store.put(bytes);
    stored = { id: entry.id, path: displayPath(store.bundlePath(entry.id), io.cwd) };
  }
  if (values.out) await writeFileAtomic(resolve(io.cwd, values.out), bytes);
  return { stored, out: values.out ?? null };
}
