import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isVouchError } from '../core/errors.ts';
import { eventOf, parseOsvRecord, parseOsvText } from './osv.ts';

const OSV = join(dirname(fileURLToPath(import.meta.url)), '../../../shared/vectors/osv');

function malformed(field: string): (e: unknown) => boolean {
  return (e) =>
    isVouchError(e) &&
    e.code === 'OSV_MALFORMED' &&
    e.field === field &&
    e.message.includes('src.json');
}

describe('parseOsvText on the real records', () => {
  for (const dir of ['golang', 'pypa', 'rustsec']) {
    it(`reads every ${dir} record`, () => {
      const files = readdirSync(join(OSV, dir)).filter((f) => /\.(json|ya?ml)$/.test(f));
      assert.ok(files.length > 50, `${dir}: ${files.length}`);
      let ranges = 0;
      for (const f of files) {
        const text = readFileSync(join(OSV, dir, f), 'utf8');
        const rec = parseOsvText(text, f);
        // the id is the file name's last part (pypa: <package>__<id>.yaml)
        assert.equal(rec.id, f.replace(/^.*__/, '').replace(/\.(json|ya?ml)$/, ''), f);
        assert.ok(!Number.isNaN(Date.parse(rec.modified)), f);
        for (const a of rec.affected)
          for (const r of a.ranges) ranges += r.events.length > 0 ? 1 : 0;
      }
      assert.ok(ranges > 0);
    });
  }

  it('keeps what matching needs from a PyPA YAML record', () => {
    const f = readdirSync(join(OSV, 'pypa')).find((x) => x.endsWith('.yaml')) as string;
    const text = readFileSync(join(OSV, 'pypa', f), 'utf8');
    const rec = parseOsvText(text, f);
    const a = rec.affected[0];
    assert.ok(a?.package);
    assert.equal(a.package.ecosystem, 'PyPI');
    assert.ok(a.versions.length > 0, 'pypa records list versions');
    for (const r of a.ranges) for (const e of r.events) assert.ok(eventOf(e).version.length > 0);
  });
});

describe('parseOsvRecord rejects garbage, naming the field', () => {
  const ok = {
    id: 'X-1',
    modified: '2024-01-01T00:00:00Z',
    future_field: { anything: true },
    affected: [
      {
        package: { ecosystem: 'npm', name: 'a' },
        ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }] }],
      },
    ],
  };
  it('accepts a minimal record and tolerates unknown fields', () => {
    const r = parseOsvRecord(ok, 'src.json');
    assert.equal(r.id, 'X-1');
    assert.deepEqual(r.aliases, []);
    assert.deepEqual(r.affected[0]?.versions, []);
  });
  const cases: [string, unknown, string][] = [
    ['not an object', [], '/'],
    ['no id', { ...ok, id: undefined }, '/id'],
    ['empty id', { ...ok, id: ' ' }, '/id'],
    ['no modified', { ...ok, modified: undefined }, '/modified'],
    ['bad modified', { ...ok, modified: 'yesterday' }, '/modified'],
    ['aliases not strings', { ...ok, aliases: [1] }, '/aliases/0'],
    ['affected not array', { ...ok, affected: {} }, '/affected'],
    [
      'package without name',
      { ...ok, affected: [{ package: { ecosystem: 'npm' } }] },
      '/affected/0/package/name',
    ],
    ['no package and no GIT range', { ...ok, affected: [{ ranges: [] }] }, '/affected/0/package'],
    [
      'bad range type',
      {
        ...ok,
        affected: [
          { ...ok.affected[0], ranges: [{ type: 'DATE', events: [{ introduced: '0' }] }] },
        ],
      },
      '/affected/0/ranges/0/type',
    ],
    [
      'no events',
      { ...ok, affected: [{ ...ok.affected[0], ranges: [{ type: 'SEMVER', events: [] }] }] },
      '/affected/0/ranges/0/events',
    ],
    [
      'two keys in an event',
      {
        ...ok,
        affected: [
          {
            ...ok.affected[0],
            ranges: [{ type: 'SEMVER', events: [{ introduced: '0', fixed: '1' }] }],
          },
        ],
      },
      '/affected/0/ranges/0/events/0',
    ],
    [
      'unknown event',
      {
        ...ok,
        affected: [{ ...ok.affected[0], ranges: [{ type: 'SEMVER', events: [{ patched: '1' }] }] }],
      },
      '/affected/0/ranges/0/events/0',
    ],
    [
      'GIT without repo',
      {
        ...ok,
        affected: [{ ...ok.affected[0], ranges: [{ type: 'GIT', events: [{ introduced: 'a' }] }] }],
      },
      '/affected/0/ranges/0/repo',
    ],
    ['severity without score', { ...ok, severity: [{ type: 'CVSS_V3' }] }, '/severity/0/score'],
    [
      'huge versions list',
      { ...ok, affected: [{ ...ok.affected[0], versions: new Array(100_001).fill('1') }] },
      '/affected/0/versions',
    ],
  ];
  for (const [what, value, field] of cases) {
    it(what, () => assert.throws(() => parseOsvRecord(value, 'src.json'), malformed(field)));
  }
  it('text that is neither JSON nor YAML, or truncated JSON', () => {
    for (const t of ['{"id": "X-1", "modified": ', 'id: [unclosed', '']) {
      assert.throws(
        () => parseOsvText(t, 'src.json'),
        (e) => isVouchError(e) && e.code === 'OSV_MALFORMED',
      );
    }
  });
});
