import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  makeStatement,
  parseStatement,
  statementFromJson,
  statementHasSubject,
} from './statement.ts';

const HEX = 'a'.repeat(64);

test('a real in-toto Statement from sigstore-js parses', () => {
  const text = readFileSync(
    new URL('../../../shared/vectors/sigstore/sigstore-js/bundles/statement.json', import.meta.url),
    'utf8',
  );
  const st = parseStatement(text, 'statement.json');
  assert.ok(st.subject.length > 0);
  assert.match(st.predicateType, /^https?:\/\//);
});

test('subject matching is exact, case-insensitive hex, and ignores weak algorithms', () => {
  const st = makeStatement(
    [
      { name: 'b', digest: { sha256: HEX } },
      { name: 'a', digest: { sha1: 'b'.repeat(40) } },
    ],
    'https://example.com/p',
    {},
  );
  assert.deepEqual(
    st.subject.map((s) => s.name),
    ['a', 'b'],
  );
  assert.equal(statementHasSubject(st, 'sha256', HEX.toUpperCase()), true);
  assert.equal(statementHasSubject(st, 'sha256', 'b'.repeat(64)), false);
  assert.equal(statementHasSubject(st, 'sha1', 'b'.repeat(40)), false);
});

test('invalid statements name the field', () => {
  const base = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'x', digest: { sha256: HEX } }],
    predicateType: 'https://p',
    predicate: {},
  };
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ ...base, _type: 'https://in-toto.io/Statement/v9' }, '/_type'],
    [{ ...base, subject: [] }, '/subject'],
    [{ ...base, subject: [{ name: 'x', digest: {} }] }, '/subject/0/digest'],
    [{ ...base, subject: [{ name: 'x', digest: { sha256: 'zz' } }] }, '/subject/0/digest/sha256'],
    [{ ...base, predicateType: 'not a uri' }, '/predicateType'],
    [{ ...base, predicateType: 'https://p x' }, '/predicateType'],
    [{ ...base, predicateType: 'https://[p' }, '/predicateType'],
    [{ ...base, predicate: [1] }, '/predicate'],
    // Every hex length is checked, each with its own pattern (sha512 after sha256 of the same statement).
    [
      { ...base, subject: [{ name: 'x', digest: { sha256: HEX, sha512: HEX } }] },
      '/subject/0/digest/sha512',
    ],
    [{ ...base, subject: [{ name: 'x', digest: { sha1: HEX } }] }, '/subject/0/digest/sha1'],
  ];
  // Accepted ones, parsed twice (the second time from what the first remembered).
  for (let i = 0; i < 2; i++) {
    assert.equal(statementFromJson(base, 's.json').predicateType, 'https://p');
    const st = statementFromJson(
      {
        ...base,
        subject: [{ name: 'x', digest: { sha256: HEX.toUpperCase(), sha1: 'b'.repeat(40) } }],
      },
      's.json',
    );
    assert.deepEqual(st.subject[0]?.digest, { sha256: HEX, sha1: 'b'.repeat(40) });
  }
  for (const [json, field] of cases) {
    assert.throws(
      () => statementFromJson(json, 's.json'),
      (e: unknown) => {
        const err = e as { code: string; field: string; message: string };
        return (
          err.code === 'STATEMENT_MALFORMED' &&
          err.field === field &&
          err.message.startsWith('s.json')
        );
      },
      field,
    );
  }
});

test('digest algorithm names that are Object properties: toString is just an unknown algorithm, __proto__ is refused', () => {
  const text = (digest: string) =>
    `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"x","digest":${digest}}],"predicateType":"https://p","predicate":{}}`;
  // JSON.parse makes each an own key, as an attacker's payload would.
  const st = parseStatement(text(`{"sha256":"${HEX}","toString":"not hex at all"}`), 's.json');
  assert.deepEqual(st.subject[0]?.digest, { sha256: HEX, toString: 'not hex at all' });
  assert.throws(
    () => parseStatement(text(`{"__proto__":"${HEX}"}`), 's.json'),
    (e: unknown) =>
      (e as { code?: string; field?: string }).code === 'STATEMENT_MALFORMED' &&
      (e as { field?: string }).field === '/subject/0/digest/__proto__',
  );
});
