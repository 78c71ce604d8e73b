import { posix } from 'node:path';
import { VouchError } from '../../core/errors.ts';
import { ResultBuilder } from '../builder.ts';
import type { ReaderResult, Scope } from '../model.ts';
import type { Reader, SourceFile } from '../reader.ts';

/**
 * Gradle dependency locking: the single `gradle.lockfile`
 * (`group:artifact:version=conf1,conf2`, `empty=` lists configurations with
 * nothing locked) and the older per-configuration
 * `gradle/dependency-locks/<conf>.lockfile` (`group:artifact:version`).
 *
 * Scope from configurations: a dependency in a main-source-set classpath
 * (compileClasspath, runtimeClasspath and the legacy compile/runtime, ...)
 * ships with the software and is required. One found only in test
 * configurations (`test*` / `*Test*`) or only in tool and other source set
 * configurations (checkstyle, jacoco*, annotationProcessor, jmh*, ...) is
 * dev. The configurations are kept as the `gradle:configurations` property.
 */
export const gradleLockfileReader: Reader = {
  name: 'gradle-lockfile',
  matches: (path) =>
    /(^|\/)gradle\.lockfile$/.test(path) ||
    /(^|\/)gradle\/dependency-locks\/[^/]+\.lockfile$/.test(path),
  read,
};

const MAIN = new Set([
  'compileClasspath',
  'runtimeClasspath',
  'compile',
  'runtime',
  'implementation',
  'api',
  'compileOnly',
  'runtimeOnly',
  'default',
  'apiElements',
  'runtimeElements',
  'releaseCompileClasspath',
  'releaseRuntimeClasspath',
]);

export function gradleScope(configurations: readonly string[]): Scope {
  return configurations.some((c) => MAIN.has(c)) ? 'required' : 'dev';
}

async function read(file: SourceFile): Promise<ReaderResult> {
  const legacy = !file.path.endsWith('gradle.lockfile');
  const legacyConf = legacy ? posix.basename(file.path, '.lockfile') : '';
  const b = new ResultBuilder(
    file.path,
    'gradle-lockfile',
    legacy ? 'Gradle per-configuration lockfile' : 'gradle.lockfile',
  );
  const lines = (await file.bytes()).toString('utf8').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (!legacy && eq < 0) {
      throw new VouchError('LOCKFILE_MALFORMED', 'expected group:artifact:version=configurations', {
        file: file.path,
        field: `line ${i + 1}`,
      });
    }
    const coords = legacy ? line : line.slice(0, eq);
    if (!legacy && coords === 'empty') continue;
    const confs = legacy
      ? [legacyConf]
      : line
          .slice(eq + 1)
          .split(',')
          .filter((c) => c !== '');
    const parts = coords.split(':');
    if (parts.length !== 3 || parts.some((p) => p === '')) {
      throw new VouchError('LOCKFILE_MALFORMED', `not group:artifact:version: ${coords}`, {
        file: file.path,
        field: `line ${i + 1}`,
      });
    }
    b.declare();
    const [group, artifact, version] = parts as [string, string, string];
    b.add({
      ecosystem: 'maven',
      namespace: group,
      name: artifact,
      version,
      scope: gradleScope(confs),
      properties: { 'gradle:configurations': confs.join(',') },
    });
  }
  return b.build();
}
