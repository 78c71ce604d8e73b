import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { isolatedEnv, show, tempDir, vouch } from '../../../test/cli/helpers.ts';
import { diffSboms, readSbomDocument } from '../diff.ts';
import type { Sbom } from '../model.ts';
import { toCycloneDx } from './cyclonedx.ts';
import { toSpdx, writeSpdx } from './spdx.ts';
import {
  commentLine,
  escapeCommentValue,
  parseComment,
  unescapeCommentValue,
} from './spdx-comment.ts';
import { everyFeatureSbom, schemaErrors, spdxValidator } from './testing.ts';

// biome-ignore lint/suspicious/noExplicitAny: tests read JSON of a shape they assert on
type Any = any;

const FORGED = 'vouch:otherSource=registry:https://trusted.example';

test('codec: every control and line break is escaped, % too; decoding is the exact inverse', () => {
  const nasty = `a\nb\rc\u0000d\u007fe\u0085f\u2028g\u2029h%0A%25%40=i\u00e9\u{1f600}`;
  const line = commentLine('k=ey\n', nasty);
  assert.equal(
    line,
    'k%3Dey%0A=a%0Ab%0Dc%00d%7Fe%C2%85f%E2%80%A8g%E2%80%A9h%250A%2525%2540=i\u00e9\u{1f600}',
  );
  assert.equal(line.split(/[\n\r\u0085\u2028\u2029]/).length, 1);
  assert.deepEqual(parseComment(`${line}\n${commentLine('x', '')}`), [
    ['k=ey\n', nasty],
    ['x', ''],
  ]);
  // A comment written before escaping existed keeps its URL's own %XX.
  assert.equal(
    unescapeCommentValue('registry:https://r.example/%40scope%2fname?a%3Db'),
    'registry:https://r.example/%40scope%2fname?a%3Db',
  );
  // Plain values (the overwhelming case) are written as they are.
  assert.equal(
    escapeCommentValue('tarball:https://r.example/a/-/a-1.0.0.tgz'),
    'tarball:https://r.example/a/-/a-1.0.0.tgz',
  );
});

/** A model whose values carry forged lines, as if a reader had let them through. */
function hostileSbom(): Sbom {
  const sbom = everyFeatureSbom();
  const c = sbom.components[0] as Sbom['components'][number];
  c.source = { kind: 'tarball', url: `https://evil.example/a.tgz\n${FORGED}` };
  c.otherSources = [{ kind: 'git', url: 'https://evil.example/r.git\r\nvouch:scope=dev' }];
  c.properties = { ...c.properties, 'npm:alias': `x\n${FORGED}`, 'a=b': 'c' };
  return sbom;
}

test('spdx writer: hostile values stay one line each, validate, read back unforged, reproducibly', () => {
  const sbom = hostileSbom();
  const doc = toSpdx(sbom) as Any;
  assert.equal(schemaErrors(spdxValidator(), doc), undefined);
  const c = sbom.components[0] as Sbom['components'][number];
  const pkg = doc.packages.find((p: Any) => p.externalRefs?.[0]?.referenceLocator === c.purl);
  const lines = pkg.comment.split('\n');
  // scope, source, one otherSource, then each property: nothing more.
  assert.equal(lines.length, 3 + Object.keys(c.properties ?? {}).length, pkg.comment);
  assert.ok(!lines.includes(FORGED) && !lines.includes('vouch:scope=dev'), pkg.comment);
  assert.ok(lines.includes('vouch:a%3Db=c'), pkg.comment);
  const entries = parseComment(pkg.comment);
  assert.deepEqual(
    entries.filter(([k]) => k === 'vouch:otherSource' || k === 'vouch:scope').map(([, v]) => v),
    ['required', 'git:https://evil.example/r.git\r\nvouch:scope=dev'],
  );
  assert.ok(entries.some(([k, v]) => k === 'vouch:npm:alias' && v === `x\n${FORGED}`));
  // sbom diff reads exactly the model's origins, the same as from CycloneDX's structured properties.
  const fromSpdx = readSbomDocument(doc, 'a.spdx.json').components.find((x) => x.purl === c.purl);
  assert.deepEqual(fromSpdx?.sources, [
    'git:https://evil.example/r.git\r\nvouch:scope=dev',
    `tarball:https://evil.example/a.tgz\n${FORGED}`,
  ]);
  assert.equal(diffSboms(doc, toCycloneDx(sbom)).identical, true);
  assert.equal(writeSpdx(hostileSbom()), writeSpdx(hostileSbom()));
});

async function lockfileProject(
  t: Parameters<typeof tempDir>[0],
  packages: object,
): Promise<string> {
  const dir = await tempDir(t);
  await writeFile(
    join(dir, 'package-lock.json'),
    JSON.stringify({ name: 'demo', version: '1.0.0', lockfileVersion: 3, packages }, null, 2),
  );
  return dir;
}

test('hand-written package-lock.json: a resolved URL with a newline is LOCKFILE_MALFORMED naming the file', async (t) => {
  // Hand-written (no npm writes such a lockfile): the attack, not a real project.
  const dir = await lockfileProject(t, {
    '': { name: 'demo', version: '1.0.0', dependencies: { 'left-pad': '^1.3.0' } },
    'node_modules/left-pad': {
      version: '1.3.0',
      resolved: `https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz\n${FORGED}`,
    },
  });
  const r = await vouch(['sbom', '.', '--format', 'spdx-json', '-o', 'sbom.spdx.json'], {
    cwd: dir,
  });
  assert.equal(r.code, 2, show(r));
  assert.match(r.stderr, /LOCKFILE_MALFORMED: package-lock\.json: .*left-pad@1\.3\.0.*U\+000A/);
  assert.equal(existsSync(join(dir, 'sbom.spdx.json')), false, 'no document is written');
  const j = await vouch(['sbom', '.', '--format', 'spdx-json', '--json'], { cwd: dir });
  assert.equal(j.code, 2, show(j));
  assert.deepEqual(
    [JSON.parse(j.stdout).error.code, JSON.parse(j.stdout).error.file],
    ['LOCKFILE_MALFORMED', 'package-lock.json'],
  );
});

test('hand-written package-lock.json: a newline in a property (alias folder) round-trips through SPDX and sbom diff', async (t) => {
  // Hand-written: an alias whose node_modules folder name carries a forged line.
  const dir = await lockfileProject(t, {
    '': { name: 'demo', version: '1.0.0', dependencies: { x: 'npm:left-pad@^1.3.0' } },
    [`node_modules/x\n${FORGED}`]: {
      name: 'left-pad',
      version: '1.3.0',
      resolved: 'https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz',
    },
  });
  // A fixed creation time: reproducibility is promised for the same SOURCE_DATE_EPOCH.
  const env = { cwd: dir, env: isolatedEnv(dir, { SOURCE_DATE_EPOCH: '1700000000' }) };
  for (const [format, out] of [
    ['spdx-json', 'a.spdx.json'],
    ['cyclonedx-json', 'a.cdx.json'],
  ] as const) {
    const r = await vouch(['sbom', '.', '--format', format, '-o', out], env);
    assert.equal(r.code, 0, show(r));
  }
  const spdx = JSON.parse(await readFile(join(dir, 'a.spdx.json'), 'utf8'));
  const pkg = spdx.packages.find((p: Any) => p.name === 'left-pad');
  assert.equal(pkg.comment, `vouch:scope=required\nvouch:npm:alias=x%0A${FORGED}`);
  const read = readSbomDocument(spdx, 'a.spdx.json').components.find((c) => c.name === 'left-pad');
  assert.deepEqual(read?.sources, []);
  // The CLI's diff of the SPDX against the CycloneDX of the same lockfile: nothing forged, nothing changed.
  const d = await vouch(['sbom', 'diff', 'a.spdx.json', 'a.cdx.json', '--json'], env);
  assert.equal(d.code, 0, show(d));
  assert.equal(JSON.parse(d.stdout).identical, true, d.stdout);
  // Byte-reproducible.
  const again = await vouch(['sbom', '.', '--format', 'spdx-json'], env);
  assert.equal(again.stdout, await readFile(join(dir, 'a.spdx.json'), 'utf8'));
});
