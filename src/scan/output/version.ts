import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** vouch's version from package.json (read once). */
export function packageVersion(): string {
  cached ??= String(
    JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')).version,
  );
  return cached;
}
