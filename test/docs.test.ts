// The documentation's examples are tests. Every ```sh block of a page runs, in
// order, as one `bash -e` script in a fresh temp directory, with `vouch` on
// PATH pointing at this checkout's CLI. A line written `! vouch …` must fail:
// bash's own `set -e` ignores a negated command, so such lines are rewritten
// to fail the script when the command succeeds (or dies as a crash: exit 70,
// 126, 127 or a signal). `! cmd   # exit N` also pins the exit code.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { VouchError } from '../src/core/errors.ts';
import { CLI_MAIN, isolatedEnv, REPO_ROOT, tempDir } from './cli/helpers.ts';

const DOCS = join(REPO_ROOT, 'docs');

/** The members of the ErrorCode union, read from the source (a type has no runtime value). */
function errorCodes(): string[] {
  const src = readFileSync(join(REPO_ROOT, 'src', 'core', 'errors.ts'), 'utf8');
  const union = /export type ErrorCode =([\s\S]*?);/.exec(src)?.[1] ?? '';
  return [...union.matchAll(/'([A-Z0-9_]+)'/g)].map((m) => m[1] as string);
}

function markdownFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((d) =>
      d.isDirectory()
        ? markdownFiles(join(dir, d.name))
        : d.name.endsWith('.md')
          ? [join(dir, d.name)]
          : [],
    )
    .sort();
}

/** The bodies of the ```sh blocks of a Markdown text, in order. */
export function shBlocks(markdown: string): string[] {
  const blocks: string[] = [];
  const re = /^```sh[ \t]*\n([\s\S]*?)^```[ \t]*$/gm;
  for (let m = re.exec(markdown); m !== null; m = re.exec(markdown)) blocks.push(m[1] as string);
  return blocks;
}

/** Joins backslash-continued lines, then turns `! cmd [# exit N]` lines into real assertions. */
export function toScript(blocks: readonly string[]): string {
  const lines = blocks
    .join('\n')
    .replace(/\\\n[ \t]*/g, ' ')
    .split('\n');
  return lines
    .map((line) => {
      const m = /^(\s*)!\s+(.*?)(?:\s+#\s*exit\s+(\d+)\s*)?$/.exec(line);
      if (!m) return line;
      const [, indent, command, code] = m as unknown as [string, string, string, string?];
      const quoted = `'${command.replace(/'/g, `'\\''`)}'`;
      const check =
        code !== undefined
          ? `[ "$__rc" -eq ${code} ] || { echo "expected exit ${code}, got $__rc: "${quoted} >&2; exit 1; }`
          : `case "$__rc" in 70|126|127|12[89]|1[3-9][0-9]|2[0-9][0-9]) echo "crashed with exit $__rc: "${quoted} >&2; exit 1;; esac`;
      return `${indent}if ${command}; then echo "expected to fail but succeeded: "${quoted} >&2; exit 1; else __rc=$?; ${check}; fi`;
    })
    .join('\n');
}

test('toScript: a negated line fails the script when the command succeeds', async (t) => {
  const dir = await tempDir(t);
  const run = (script: string) =>
    spawnSync('bash', ['-e', '-c', script], { cwd: dir, encoding: 'utf8' }).status;
  assert.equal(run(toScript(['! false\n'])), 0);
  assert.equal(run(toScript(['! true\n'])), 1);
  assert.equal(run(toScript(['! sh -c "exit 2"   # exit 2\n'])), 0);
  assert.equal(run(toScript(['! sh -c "exit 1"   # exit 2\n'])), 1);
  assert.equal(run(toScript(['! sh -c "exit 70"\n'])), 1);
  assert.equal(run(toScript(['! no-such-command-here\n'])), 1);
  assert.equal(run(toScript(['! test \\\n  1 = 2\n'])), 0);
  // Plain lines keep bash -e semantics.
  assert.equal(run(toScript(['false\necho unreachable\n'])), 1);
});

const files = markdownFiles(DOCS);

test('docs exist', () => {
  assert.ok(files.length > 0, `no Markdown files under ${DOCS}`);
});

for (const file of files) {
  const name = relative(REPO_ROOT, file);
  const blocks = shBlocks(readFileSync(file, 'utf8'));
  if (blocks.length === 0) continue;
  test(`examples in ${name} run`, async (t) => {
    const dir = await tempDir(t);
    const bin = join(dir, '.bin');
    const work = join(dir, 'work');
    mkdirSync(bin);
    mkdirSync(work);
    mkdirSync(join(dir, '.home'));
    writeFileSync(join(bin, 'vouch'), `#!/bin/sh\nexec '${process.execPath}' '${CLI_MAIN}' "$@"\n`);
    chmodSync(join(bin, 'vouch'), 0o755);
    const script = toScript(blocks);
    const r = spawnSync('bash', ['-e', '-o', 'pipefail', '-c', script], {
      cwd: work,
      env: isolatedEnv(dir, { PATH: `${bin}:${process.env.PATH}` }),
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(
      r.status,
      0,
      `${name}: examples failed (exit ${r.status}${r.signal ? `, ${r.signal}` : ''})\n--- script\n${script}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`,
    );
  });
}

test('docs/errors.md lists every ErrorCode of src/core/errors.ts with its exit code', () => {
  const doc = readFileSync(join(DOCS, 'errors.md'), 'utf8');
  const codes = errorCodes();
  assert.ok(codes.length > 10, `parsed only ${codes.length} codes`);
  // Table rows: | `CODE` | exit | meaning |
  const rows = new Map(
    [...doc.matchAll(/^\|\s*`([A-Z][A-Z0-9_]+)`\s*\|\s*(\d+)\s*\|/gm)].map((m) => [
      m[1] as string,
      Number(m[2]),
    ]),
  );
  assert.deepEqual(
    codes.filter((c) => !rows.has(c)),
    [],
    'codes missing from docs/errors.md',
  );
  assert.deepEqual(
    [...rows.keys()].filter((c) => !codes.includes(c)),
    [],
    'codes in docs/errors.md that do not exist',
  );
  for (const code of codes) {
    const actual = new VouchError(code as never, 'x').exitCode;
    assert.equal(rows.get(code), actual, `exit code of ${code}`);
  }
});

test('every CLI command has docs/cli/<name>.md with an example', async () => {
  const { COMMANDS } = await import('../src/cli/main.ts');
  assert.ok(COMMANDS.length > 0);
  for (const command of COMMANDS) {
    const file = join(DOCS, 'cli', `${command.name}.md`);
    assert.ok(existsSync(file), `missing ${relative(REPO_ROOT, file)}`);
    const text = readFileSync(file, 'utf8');
    assert.match(text, /^## Example/m, `${command.name}.md has no Example section`);
    assert.ok(shBlocks(text).length > 0, `${command.name}.md has no sh block`);
    assert.match(text, /^## Exit codes/m, `${command.name}.md has no Exit codes section`);
  }
});

test("every flag in a command's --help is documented in docs/cli/<name>.md", async () => {
  const { COMMANDS } = await import('../src/cli/main.ts');
  const missing: string[] = [];
  for (const entry of COMMANDS) {
    const command = await entry.load();
    const file = join(DOCS, 'cli', `${command.name}.md`);
    if (!existsSync(file)) continue; // reported by the test above
    const text = readFileSync(file, 'utf8');
    const flags = new Set(
      [...command.help.matchAll(/(?<![\w-])--[a-z][a-z0-9-]*/g)].map((m) => m[0]),
    );
    for (const flag of flags) {
      if (!new RegExp(`\`${flag}[\\s\`]`).test(text)) missing.push(`${command.name}: ${flag}`);
    }
  }
  assert.deepEqual(missing, []);
});
