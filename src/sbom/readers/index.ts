import type { Reader } from '../reader.ts';
import { apkReader } from './apk.ts';
import { dpkgReader } from './dpkg.ts';
import { rpmReader } from './rpm.ts';

/**
 * Every reader, in the order they are tried. Adding a format is adding a file
 * in this folder and a line here; no registration by import side effects.
 */
export const READERS: readonly Reader[] = [
  // OS package databases
  dpkgReader,
  apkReader,
  rpmReader,
];
