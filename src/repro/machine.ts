import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { Machine } from './variations/index.ts';

/** Finds out, by trying, what this machine can vary. */
export async function probeMachine(env: NodeJS.ProcessEnv = process.env): Promise<Machine> {
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  const has = (tool: string) => dirs.some((d) => existsSync(join(d, tool)));
  const root = process.getuid?.() === 0;
  const unshareWorks =
    root &&
    has('unshare') &&
    spawnSync('unshare', ['--uts', '--', 'true'], { stdio: 'ignore', timeout: 10_000 }).status ===
      0;
  let fuseWorks = false;
  if (has('disorderfs')) {
    const d = await mkdtemp(join(tmpdir(), 'vouch-fuse-probe-'));
    try {
      const src = join(d, 'src');
      const mnt = join(d, 'mnt');
      spawnSync('mkdir', [src, mnt]);
      const m = spawnSync('disorderfs', ['-q', src, mnt], { stdio: 'ignore', timeout: 10_000 });
      if (m.status === 0) {
        fuseWorks = true;
        unmount(mnt);
      }
    } finally {
      await rm(d, { recursive: true, force: true }).catch(() => {});
    }
  }
  const listed = spawnSync('locale', ['-a'], { encoding: 'utf8', timeout: 10_000 });
  const locales = new Set(
    listed.status === 0 ? listed.stdout.split('\n').filter(Boolean).map(normalizeLocale) : [],
  );
  return { root, has, fuseWorks, unshareWorks, locales };
}

/** `fr_CH.UTF-8` and `fr_CH.utf8` name the same locale (glibc's normalized codeset). */
export function normalizeLocale(name: string): string {
  const dot = name.indexOf('.');
  if (dot < 0) return name;
  const codeset = name.slice(dot + 1).split('@');
  return `${name.slice(0, dot)}.${(codeset[0] as string).toLowerCase().replace(/[^a-z0-9]/g, '')}${codeset[1] === undefined ? '' : `@${codeset[1]}`}`;
}

export function unmount(dir: string): void {
  const r = spawnSync('fusermount', ['-u', dir], { stdio: 'ignore', timeout: 30_000 });
  if (r.status !== 0) spawnSync('umount', [dir], { stdio: 'ignore', timeout: 30_000 });
}
