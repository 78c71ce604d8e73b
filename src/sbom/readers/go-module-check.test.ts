import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isVouchError } from '../../core/errors.ts';
import { goBinaryReader } from './go-binary.ts';
import { framed, MODINFO, syntheticGoBinary } from './go-binary-testkit.ts';
import { goModReader } from './go-mod.ts';
import { fileOf } from './polyglot-testkit.ts';

// Found by test/fuzz: module paths and versions that packageurl-js refuses
// (an empty name: PurlError; a `v` version that is not semver: a
// ReferenceError inside packageurl-js 2.0.1) escaped the readers as crashes.

async function refused(p: Promise<unknown>, file: string, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isVouchError(e), String(e));
    assert.equal(e.code, 'LOCKFILE_MALFORMED');
    assert.equal(e.file, file);
    assert.match(e.message, message);
    return true;
  });
}

test('go.mod: a module path with an empty element is LOCKFILE_MALFORMED naming the line', async () => {
  await refused(
    goModReader.read(fileOf('go.mod', 'module github.com/\n')),
    'go.mod',
    /line 1.*not a module path/,
  );
  await refused(
    goModReader.read(fileOf('go.mod', 'module x\nrequire a/ v1.0.0\n')),
    'go.mod',
    /line 2.*not a module path/,
  );
});

test('go.mod, go.sum: a v-version that is not semver is LOCKFILE_MALFORMED', async () => {
  await refused(
    goModReader.read(fileOf('go.mod', 'module x\nrequire golang.org/x/net v0.0.0.1\n')),
    'go.mod',
    /line 2.*"v0\.0\.0\.1".*not a semantic version/,
  );
  await refused(
    goModReader.read(fileOf('go.mod', 'module x\n', { 'go.sum': 'a v1.0 h1:x=\n' })),
    'go.sum',
    /a@v1\.0.*not a semantic version/,
  );
  // The canonical forms still read: pseudo-versions, +incompatible, pre-releases.
  const r = await goModReader.read(
    fileOf(
      'go.mod',
      'module x\nrequire (\n a v0.0.0-20210101000000-abcdef123456\n b v2.0.0+incompatible\n c v1.2.3-rc.1\n)\n',
    ),
  );
  assert.equal(r.components.length, 4);
});

test('Go binary: build info naming a module version that is not semver is LOCKFILE_MALFORMED', async () => {
  const modinfo = MODINFO.replace(/\tv\d+\.\d+\.\d+/, '\tv1.2');
  assert.notEqual(modinfo, MODINFO);
  const bin = syntheticGoBinary({
    format: 'elf',
    bits: 64,
    goVersion: 'go1.17',
    modinfo: framed(modinfo),
  });
  await refused(
    goBinaryReader.read(fileOf('usr/bin/app', bin.bytes)),
    'usr/bin/app',
    /not a semantic version/,
  );
});
