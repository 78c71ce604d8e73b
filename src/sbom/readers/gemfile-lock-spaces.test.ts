import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isVouchError } from '../../core/errors.ts';
import { gemfileLockReader } from './gemfile-lock.ts';
import { fileOf } from './polyglot-testkit.ts';

// Found by test/fuzz: trailing whitespace was stripped with
// replace(/\s+$/, ''), which backtracks quadratically over a run of spaces
// that does not reach the end of the line (64 kB of spaces: 4 s; a 2 MB
// lockfile line: hours). The timeout is a hang guard far above the linear
// cost, not a speed assertion.

test('a line with a long run of inner spaces is an error naming the line, not a hang', {
  timeout: 60_000,
}, async () => {
  const text = `GEM\n  remote: https://rubygems.org/\n  specs:\n    rake (13.0.6)\n${' '.repeat(2_000_000)}x\n`;
  await assert.rejects(gemfileLockReader.read(fileOf('Gemfile.lock', text)), (e: unknown) => {
    assert.ok(isVouchError(e), String(e));
    assert.equal(e.code, 'LOCKFILE_MALFORMED');
    assert.equal(e.file, 'Gemfile.lock');
    assert.equal(e.field, 'line 5');
    return true;
  });
});

test('trailing spaces and tabs are still ignored', async () => {
  const r = await gemfileLockReader.read(
    fileOf(
      'Gemfile.lock',
      'GEM \n  remote: https://rubygems.org/\t\n  specs:  \n    rake (13.0.6) \t\n\nPLATFORMS\n  ruby\n',
    ),
  );
  assert.deepEqual(
    r.components.map((c) => c.purl),
    ['pkg:gem/rake@13.0.6'],
  );
});
