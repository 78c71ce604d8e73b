import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseJson, readJsonFile } from './json.ts';

test('malformed JSON names the source, line and column', () => {
  assert.throws(
    () => parseJson('{\n  "a": 1,\n  "b": }', 'x.json'),
    (e: Error & { code?: string }) => {
      assert.equal(e.code, 'JSON_MALFORMED');
      assert.match(e.message, /^x\.json: not valid JSON: .*line 3, column 8/);
      return true;
    },
  );
  assert.throws(() => parseJson('', 'empty.json'), /empty\.json: not valid JSON: empty input/);
  assert.throws(() => parseJson('{"a":', 'cut.json'), { code: 'JSON_MALFORMED' });
});

test('deep nesting and oversize input are refused', () => {
  assert.throws(() => parseJson('['.repeat(100) + ']'.repeat(100), 'deep.json'), {
    code: 'JSON_TOO_DEEP',
  });
  assert.equal((parseJson('[[[1]]]', 'ok.json') as number[][][])[0]?.[0]?.[0], 1);
  // The limit is exact, with few brackets (no walk) and with many (walked).
  const nest = (n: number) => `${'{"a":'.repeat(n - 1)}[1]${'}'.repeat(n - 1)}`;
  assert.doesNotThrow(() => parseJson(nest(3), 'three.json', { maxDepth: 3 }));
  assert.throws(() => parseJson(nest(4), 'four.json', { maxDepth: 3 }), { code: 'JSON_TOO_DEEP' });
  assert.throws(() => parseJson('[[[[]]]]', 'four.json', { maxDepth: 3 }), {
    code: 'JSON_TOO_DEEP',
  });
  assert.throws(() => parseJson('{}', 'one.json', { maxDepth: 0 }), { code: 'JSON_TOO_DEEP' });
  assert.equal(parseJson('1', 'scalar.json', { maxDepth: 0 }), 1);
  // Brackets inside strings count towards the shortcut but not the depth.
  const wide = `[${Array.from({ length: 100 }, () => '"[{"').join(',')}]`;
  assert.equal((parseJson(wide, 'wide.json', { maxDepth: 1 }) as string[]).length, 100);
  const flat = `[${Array.from({ length: 100 }, () => '[]').join(',')}]`;
  assert.equal((parseJson(flat, 'flat.json', { maxDepth: 2 }) as unknown[]).length, 100);
  assert.throws(() => parseJson(`[${flat}]`, 'flat3.json', { maxDepth: 2 }), {
    code: 'JSON_TOO_DEEP',
  });
  assert.throws(() => parseJson('"xxxxxxxxxx"', 'big.json', { maxBytes: 5 }), {
    code: 'JSON_TOO_LARGE',
  });
});

test('readJsonFile: missing file, directory, oversized file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-json-'));
  await assert.rejects(readJsonFile(join(dir, 'nope.json')), { code: 'FILE_NOT_FOUND' });
  await assert.rejects(readJsonFile(dir), { code: 'FILE_READ' });
  writeFileSync(join(dir, 'big.json'), `"${'x'.repeat(100)}"`);
  await assert.rejects(readJsonFile(join(dir, 'big.json'), { maxBytes: 10 }), {
    code: 'JSON_TOO_LARGE',
  });
});

test('error location for common breakages', () => {
  const where = (t: string) => {
    try {
      parseJson(t, 'f');
    } catch (e) {
      return (e as Error).message.replace(/^f: not valid JSON: /, '');
    }
    return 'parsed';
  };
  assert.equal(where('{"a":[1,2,}'), 'unexpected character "}" at line 1, column 11');
  assert.equal(where('{"a":1'), 'unexpected end of input (truncated?) at line 1, column 7');
  assert.equal(where('{"a":1} x'), 'unexpected text after the JSON value at line 1, column 9');
  assert.equal(where("{'a':1}"), 'expected a property name in double quotes at line 1, column 2');
  assert.equal(where('["\\x"]'), 'bad escape at line 1, column 3');
  assert.equal(where('[1 2]'), "expected ',' or ']' at line 1, column 4");
});
