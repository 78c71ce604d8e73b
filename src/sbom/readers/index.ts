import type { Reader } from '../reader.ts';
import { apkReader } from './apk.ts';
import { bunReader } from './bun.ts';
import { dpkgReader } from './dpkg.ts';
import { npmReader } from './npm.ts';
import { pnpmReader } from './pnpm.ts';
import { rpmReader } from './rpm.ts';
import { yarnReader } from './yarn.ts';

/**
 * Every reader, in the order they are tried. Adding a format is adding a file
 * in this folder and a line here; no registration by import side effects.
 */
export const READERS: readonly Reader[] = [
  // JavaScript lockfiles
  npmReader,
  yarnReader,
  pnpmReader,
  bunReader,
  // OS package databases
  dpkgReader,
  apkReader,
  rpmReader,
];
