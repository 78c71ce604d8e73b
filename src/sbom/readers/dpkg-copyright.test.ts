import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openImage } from '../image/index.ts';
import { writeLayout } from '../image/testing.ts';
import type { Sbom } from '../model.ts';
import { renderSbom } from '../sbom.ts';
import { scanDirectory, scanSources } from '../scan.ts';
import { licenseForm } from '../writers/common.ts';
import { cyclonedxValidator, schemaErrors, spdxValidator } from '../writers/testing.ts';
import { copyrightLicenses, SPDX_BY_DEP5, spdxFromDep5 } from './dpkg-copyright.ts';

const FORMAT = 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/';

test('DEP-5 license expressions → SPDX, only where every name is known', () => {
  const cases: Array<[string, string | undefined]> = [
    ['GPL-2+', 'GPL-2.0-or-later'],
    ['GPL-2', 'GPL-2.0-only'],
    ['GPLv3+', 'GPL-3.0-or-later'],
    ['LGPL-2.1', 'LGPL-2.1-only'],
    ['Expat', 'MIT'],
    ['BSD-3-clause', 'BSD-3-Clause'],
    ['Apache-2.0', 'Apache-2.0'],
    ['LGPL-3+ or GPL-2+', 'LGPL-3.0-or-later OR GPL-2.0-or-later'],
    ['BSL-1.0 and Zlib', 'BSL-1.0 AND Zlib'],
    ['GPL-2+ with Autoconf exception', 'GPL-2.0-or-later WITH Autoconf-exception-2.0'],
    ['GPL-3+ with Bison exception', 'GPL-3.0-or-later WITH Bison-exception-2.2'],
    ['GPL-2 with Linux-syscall-note exception', 'GPL-2.0-only WITH Linux-syscall-note'],
    // A comma lowers the operator after it below both.
    ['BSD-3-clause or GPL-2, and MIT', '(BSD-3-Clause OR GPL-2.0-only) AND MIT'],
    ['GPL-2+ and MIT, or Apache-2.0', '(GPL-2.0-or-later AND MIT) OR Apache-2.0'],
    // No single SPDX meaning, or not an expression: kept as written by the caller.
    ['GPL-1+ or Artistic', undefined],
    ['GPL', undefined],
    ['public-domain', undefined],
    ['GPL-2+ with Foo exception', undefined],
    ['GPL-2+ with Autoconf', undefined],
    ['GPL-9', undefined],
    ['GPL-2+ or', undefined],
    ['or GPL-2+', undefined],
    ['MIT xor GPL-2', undefined],
  ];
  for (const [dep5, spdx] of cases) assert.equal(spdxFromDep5(dep5), spdx, dep5);
  // Every SPDX id the map can produce is one the writers (CycloneDX's SPDX table) know.
  for (const id of Object.values(SPDX_BY_DEP5)) assert.equal(licenseForm(id).kind, 'id', id);
  for (const [, spdx] of cases) if (spdx) assert.notEqual(licenseForm(spdx).kind, 'name', spdx);
});

test('copyright files: DEP-5 read, free text and hostile files give no licence', () => {
  const dep5 = [
    FORMAT,
    'Upstream-Name: demo',
    'License: GPL-2+',
    '',
    'Files: *',
    'Copyright: 2020 A',
    'License: GPL-2+',
    'Comment: first',
    'Comment: repeated (real archive files do this)',
    '',
    'Files: lib/*',
    'Copyright: 2021 B',
    'License: BSD-3-clause or GPL-2, and MIT',
    '',
    'Files: doc/*',
    'Copyright: 2021 C',
    'License: public-domain',
    ' The text of a name with no SPDX id.',
    '',
    'License: Apache-2.0',
    ' A standalone licence paragraph: only the text of a name used above.',
    '',
  ].join('\n');
  assert.deepEqual(copyrightLicenses(Buffer.from(dep5), 'c'), {
    licenses: ['(BSD-3-Clause OR GPL-2.0-only) AND MIT', 'GPL-2.0-or-later', 'public-domain'],
  });
  // Free text that mentions licences is not read for them.
  const prose = 'This package was debianized by X.\n\nLicense: GPL-2+\nFormat: see above\n';
  assert.deepEqual(copyrightLicenses(Buffer.from(prose), 'c'), { licenses: [] });
  // Another Format URL: not DEP-5.
  const other = dep5.replace(FORMAT, 'Format: https://example.com/format');
  assert.deepEqual(copyrightLicenses(Buffer.from(other), 'c'), { licenses: [] });
  // Binary, NUL bytes, cut in the middle of a field name, License repeated: a reason, no guess.
  const bad: Array<[Buffer, RegExp]> = [
    [Buffer.from([0xff, 0xfe, 0x00, 0x41, 0xc3]), /not UTF-8/],
    [Buffer.from(`${FORMAT}\nLicense: MIT\0\n`), /not text/],
    [Buffer.from(`${FORMAT}\n\nFiles: *\nLicense: MIT\n\nFiles: a\nLicen`), /truncated/],
    [Buffer.from(`${FORMAT}\n\nFiles: *\nLicense: MIT\nLicense: GPL-2\n`), /License repeated/],
  ];
  for (const [bytes, re] of bad) {
    const r = copyrightLicenses(bytes, 'usr/share/doc/x/copyright');
    assert.deepEqual(r.licenses, []);
    assert.match(r.problem ?? '', re);
  }
});

const HAS_DPKG = existsSync('/var/lib/dpkg/status') && existsSync('/usr/share/doc');

/**
 * The oracle, written apart from the reader: paragraphs split at blank
 * lines, DEP-5 when the first paragraph's Format is the 1.0 URL, licences =
 * first lines of License in the first paragraph and in paragraphs with Files.
 */
function oracleLicenses(path: string): string[] | undefined {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  const paras = text.split(/\n\s*\n/).map((p) => p.split('\n'));
  const field = (p: string[], name: string) =>
    p
      .find((l) => l.toLowerCase().startsWith(`${name}:`))
      ?.slice(name.length + 1)
      .trim();
  const fmt = field(paras[0] ?? [], 'format') ?? '';
  if (!/copyright-format\/1\.0\/?$|dep5\/?$/.test(fmt)) return [];
  const out = new Set<string>();
  for (const [i, p] of paras.entries()) {
    if (i > 0 && field(p, 'files') === undefined) continue;
    const l = field(p, 'license');
    if (l) out.add(spdxFromDep5(l) ?? l);
  }
  return [...out].sort();
}

async function machineTree(dir: string): Promise<void> {
  await mkdir(join(dir, 'var/lib/dpkg'), { recursive: true });
  await mkdir(join(dir, 'usr/share'), { recursive: true });
  await copyFile('/var/lib/dpkg/status', join(dir, 'var/lib/dpkg/status'));
  // -a keeps the symlinked doc directories (libfoo-dev -> libfoo1) as links.
  execFileSync('cp', ['-a', '/usr/share/doc', join(dir, 'usr/share/doc')]);
}

function licencesByPackage(sbom: Sbom): Map<string, string[]> {
  return new Map(
    sbom.components.filter((c) => c.ecosystem === 'deb').map((c) => [c.name, c.licenses]),
  );
}

test("this machine's packages: licences from their DEP-5 copyright files, schema-valid output", {
  skip: !HAS_DPKG && 'no /var/lib/dpkg/status or /usr/share/doc here',
}, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-dep5-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await machineTree(dir);
  const names = readdirSync('/usr/share/doc');
  const sbom = await scanDirectory(dir);
  const got = licencesByPackage(sbom);
  let dep5 = 0;
  for (const [name, licenses] of got) {
    const want = oracleLicenses(join('/usr/share/doc', name, 'copyright'));
    assert.deepEqual(licenses, want, name);
    if (licenses.length > 0) dep5++;
  }
  // Most of a Debian 12 system is DEP-5 (542 of 775 here); a regression to none must fail.
  assert.ok(dep5 > got.size / 3, `${dep5} of ${got.size} packages have licences`);
  assert.ok(names.length > 0);
  assert.ok(
    [...got.values()].some((l) => l.includes('GPL-2.0-or-later')),
    'some package is GPL-2.0-or-later',
  );
  const cdx = renderSbom(sbom, 'cyclonedx-json');
  assert.equal(schemaErrors(cyclonedxValidator(), cdx.document), undefined);
  const spdx = renderSbom(sbom, 'spdx-json');
  assert.equal(schemaErrors(spdxValidator(), spdx.document), undefined);

  // The same tree as an image layer: the copyright files are kept in the one pass.
  const layout = await writeLayout(join(dir, 'layout'), 'dep5', [
    { compression: 'none', build: (d) => machineTree(d) },
  ]);
  const image = await openImage(layout.dir);
  const fromImage = await scanSources(image.files(), image.subject);
  assert.deepEqual(licencesByPackage(fromImage), got);
});

test('hostile copyright files of installed packages: huge, binary, truncated, escaping', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-dep5-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const stanza = (name: string) =>
    `Package: ${name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0\n`;
  const pkgs = ['huge', 'binary', 'cut', 'good', 'escape', 'prose'];
  await mkdir(join(dir, 'root/var/lib/dpkg'), { recursive: true });
  await writeFile(join(dir, 'root/var/lib/dpkg/status'), pkgs.map(stanza).join('\n'));
  const doc = (p: string) => join(dir, 'root/usr/share/doc', p);
  for (const p of pkgs) if (p !== 'escape') await mkdir(doc(p), { recursive: true });
  const good = `${FORMAT}\n\nFiles: *\nCopyright: x\nLicense: Expat\n`;
  await writeFile(join(doc('huge'), 'copyright'), good + ' .\n'.repeat(5 * 1024 * 1024));
  await writeFile(
    join(doc('binary'), 'copyright'),
    Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 0xff]),
  );
  await writeFile(join(doc('cut'), 'copyright'), `${good}\nFiles: b\nLice`);
  await writeFile(join(doc('good'), 'copyright'), good);
  await writeFile(join(doc('prose'), 'copyright'), 'Copyright 2001 X. GPL-2+ applies.\n');
  // A doc directory that is a symlink out of the scanned root is not followed.
  await mkdir(join(dir, 'outside'), { recursive: true });
  await writeFile(join(dir, 'outside/copyright'), good);
  execFileSync('ln', ['-s', join(dir, 'outside'), doc('escape')]);
  const sbom = await scanDirectory(join(dir, 'root'));
  const by = new Map(sbom.components.map((c) => [c.name, c]));
  assert.deepEqual(by.get('good')?.licenses, ['MIT']);
  for (const p of ['huge', 'binary', 'cut', 'escape', 'prose'])
    assert.deepEqual(by.get(p)?.licenses, [], p);
  assert.match(by.get('huge')?.properties?.['dpkg:copyright'] ?? '', /not read: .*limit/);
  assert.match(by.get('binary')?.properties?.['dpkg:copyright'] ?? '', /not (UTF-8|text)/);
  assert.match(by.get('cut')?.properties?.['dpkg:copyright'] ?? '', /truncated/);
  assert.equal(by.get('prose')?.properties?.['dpkg:copyright'], undefined);
  assert.equal(by.get('escape')?.properties?.['dpkg:copyright'], undefined);
  // Accounting is untouched by licences: every package is still there.
  assert.equal(sbom.accounting[0]?.emitted, pkgs.length);
});
