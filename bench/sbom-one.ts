// Reads one lockfile with the reader READERS picks for it and prints
// "<unique name@version count> <peak RSS bytes>" (the count excludes the
// projects themselves, as the oracles do). Used by sbom.bench.ts so each
// timing includes node's start-up and module loading, as a user meets it.
//
// Like bin/vouch.js, it turns on Node's compile cache (in the user's cache
// directory) before loading the readers, so warm runs do not pay for type
// stripping again. sbom.bench.ts sets NODE_COMPILE_CACHE to that directory,
// so this .ts entry itself is cached too (bin/vouch.js is JavaScript).
//
//   node bench/sbom-one.ts path/to/lockfile
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import module from 'node:module';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';

if (!process.env.NODE_COMPILE_CACHE && process.env.VOUCH_NO_COMPILE_CACHE !== '1') {
  try {
    const dir = join(
      process.env.XDG_CACHE_HOME || join(homedir(), '.cache'),
      'vouch',
      'node-compile-cache',
    );
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    module.enableCompileCache?.(dir);
  } catch {
    // No writable cache directory: run uncached, just slower.
  }
}
const { READERS } = await import('../src/sbom/readers/index.ts');

const path = process.argv[2];
if (!path) {
  process.stderr.write('usage: node bench/sbom-one.ts LOCKFILE\n');
  process.exit(2);
}
const name = basename(path);
const reader = READERS.find((r) => r.matches(name));
if (!reader) {
  process.stderr.write(`no reader for ${name}\n`);
  process.exit(2);
}
const result = await reader.read({
  path: name,
  bytes: () => readFile(path),
  sibling: (n) => readFile(join(dirname(path), n)).catch(() => undefined),
});
const keys = new Set<string>();
for (const c of result.components) {
  if (c.source?.kind === 'workspace') continue;
  keys.add(`${c.namespace ? `${c.namespace}/` : ''}${c.name}@${c.version}`);
}
process.stdout.write(`${keys.size} ${process.resourceUsage().maxRSS * 1024}\n`);
