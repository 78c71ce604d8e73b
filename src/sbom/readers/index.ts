import type { Reader } from '../reader.ts';
import { apkReader } from './apk.ts';
import { bunReader } from './bun.ts';
import { cargoLockReader } from './cargo-lock.ts';
import { composerLockReader } from './composer-lock.ts';
import { dpkgReader } from './dpkg.ts';
import { gemfileLockReader } from './gemfile-lock.ts';
import { goBinaryReader } from './go-binary.ts';
import { goModReader } from './go-mod.ts';
import { gradleLockfileReader } from './gradle-lockfile.ts';
import { javaArchiveReader } from './java-archive.ts';
import { mavenPomReader } from './maven-pom.ts';
import { npmReader } from './npm.ts';
import { npmInstalledReader } from './npm-installed.ts';
import { nugetLockReader } from './nuget-lock.ts';
import { pipfileLockReader } from './pipfile-lock.ts';
import { pnpmReader } from './pnpm.ts';
import { poetryLockReader } from './poetry-lock.ts';
import { distInfoReader } from './python-dist-info.ts';
import { requirementsReader } from './requirements.ts';
import { rpmReader } from './rpm.ts';
import { uvLockReader } from './uv-lock.ts';
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
  npmInstalledReader,
  // Python
  requirementsReader,
  pipfileLockReader,
  poetryLockReader,
  uvLockReader,
  distInfoReader,
  // Go
  goModReader,
  goBinaryReader,
  // Java
  gradleLockfileReader,
  mavenPomReader,
  javaArchiveReader,
  // Rust, Ruby, PHP, .NET
  cargoLockReader,
  gemfileLockReader,
  composerLockReader,
  nugetLockReader,
  // OS package databases
  dpkgReader,
  apkReader,
  rpmReader,
];
