import { canonicalizeOlpc } from '../../core/canonical.ts';
import type { IntotoSigningKey } from './keys.ts';
import type { Artifacts, Link } from './model.ts';
import { linkFileName } from './verify.ts';

/** A classic in-toto metadata v0.9 Metablock, as in-toto-run writes it. */
export interface Metablock<T> {
  signed: T;
  signatures: Array<{ keyid: string; sig: string }>;
}

export interface LinkInput {
  name: string;
  command: string[];
  materials: Artifacts;
  products: Artifacts;
  byproducts?: Record<string, unknown>;
  environment?: Record<string, unknown>;
}

/** Builds a link's `signed` part with every field in-toto 1.3.1 requires. */
export function makeLink(input: LinkInput): Link {
  return {
    _type: 'link',
    name: input.name,
    command: [...input.command],
    materials: input.materials,
    products: input.products,
    byproducts: input.byproducts ?? {},
    environment: input.environment ?? {},
  };
}

/**
 * Signs in-toto metadata as a Metablock: the signature is over the OLPC
 * canonical JSON of `signed`, hex-encoded, under the key's securesystemslib
 * key id, which is what in-toto-verify looks up and checks.
 *
 * @throws VouchError JSON_NOT_CANONICALIZABLE (e.g. a float in `signed`)
 */
export async function signMetablock<T>(signed: T, key: IntotoSigningKey): Promise<Metablock<T>> {
  const message = Buffer.from(canonicalizeOlpc(signed), 'utf8');
  const sig = await key.sign(message);
  return { signed, signatures: [{ keyid: key.keyid, sig: sig.toString('hex') }] };
}

/** The file name in-toto-verify looks for: `<step>.<keyid8>.link`. */
export function linkFileNameFor(link: Link, key: IntotoSigningKey): string {
  return linkFileName(link.name, key.keyid);
}

/** Metablock JSON as in-toto writes it (indented, keys sorted), with a final newline. */
export function metablockJson(m: Metablock<unknown>): string {
  return `${JSON.stringify(sortKeys(m), null, 1)}\n`;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, sortKeys(o[k])]),
    );
  }
  return v;
}
