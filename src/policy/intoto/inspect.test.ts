// runInspection with real commands: the timeout kills the inspection's whole
// process group (no child survives it), what an inspection leaves running in
// the background is killed when it exits, and a chatty command's output is
// kept only up to the limit while the command still runs to its end.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { VouchError } from '../../core/errors.ts';
import { runInspection } from './inspect.ts';

const temps: string[] = [];
after(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

function workdir(): string {
  const d = mkdtempSync(join(tmpdir(), 'vouch-inspect-'));
  temps.push(d);
  return d;
}

/** Alive: exists and is not a zombie (a killed child whose reaper has not run yet is dead). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Waits (bounded) for a killed process to be gone; returns whether it still lives. */
async function stillAlive(pid: number): Promise<boolean> {
  for (let i = 0; i < 50 && alive(pid); i++) await sleep(100);
  return alive(pid);
}

const quiet = () => {};

describe('runInspection', () => {
  test('a command past its timeout is killed and reported as timed out, with no link', async () => {
    const dir = workdir();
    const r = await runInspection('hang', ['sleep', '60'], dir, quiet, { timeoutSeconds: 0.3 });
    assert.equal(r.timedOut, true);
    assert.equal(r.link, undefined);
    assert.equal(r.timeoutSeconds, 0.3);
    assert.equal(r.exitCode, 128 + 9, 'killed by SIGKILL');
  });

  test('the timeout kills the children the command started, not just the command', async () => {
    const dir = workdir();
    // The shell waits for its child; the child is what must not survive.
    const r = await runInspection(
      'spawner',
      ['sh', '-c', 'sleep 60 & echo $! > child.pid; wait'],
      dir,
      quiet,
      { timeoutSeconds: 0.5 },
    );
    assert.equal(r.timedOut, true);
    const pid = Number(readFileSync(join(dir, 'child.pid'), 'utf8'));
    assert.ok(pid > 0);
    assert.equal(await stillAlive(pid), false, `child ${pid} outlived the timed-out inspection`);
  });

  test('a background child left by an inspection that exited is killed; the run ends at once', async () => {
    const dir = workdir();
    // The child keeps stdout open: without killing the group the run would wait for it.
    const r = await runInspection(
      'leaves-child',
      ['sh', '-c', 'sleep 60 & echo $! > child.pid; echo done'],
      dir,
      quiet,
      { timeoutSeconds: 30 },
    );
    assert.equal(r.timedOut, false);
    assert.equal(r.exitCode, 0);
    assert.equal(r.link?.byproducts.stdout, 'done\n');
    assert.equal(r.link?.byproducts['return-value'], 0);
    assert.deepEqual(Object.keys(r.link?.products ?? {}), ['child.pid']);
    const pid = Number(readFileSync(join(dir, 'child.pid'), 'utf8'));
    assert.equal(await stillAlive(pid), false, `child ${pid} outlived the inspection`);
  });

  test('a chatty command: output kept up to the limit, the rest drained and counted', async () => {
    const dir = workdir();
    const shown: string[] = [];
    const total = 5 * 1024 * 1024;
    const r = await runInspection(
      'chatty',
      ['sh', '-c', `head -c ${total} /dev/zero | tr '\\0' x; echo err >&2`],
      dir,
      (m) => shown.push(m),
      { streamLimit: 64 * 1024 },
    );
    assert.equal(r.timedOut, false);
    assert.equal(r.exitCode, 0, 'the command was not blocked on a full pipe');
    const stdout = r.link?.byproducts.stdout as string;
    assert.equal(stdout.length, 64 * 1024);
    assert.match(stdout, /^x+$/);
    assert.equal(r.dropped.stdout, total - 64 * 1024);
    assert.equal(r.link?.byproducts.stderr, 'err\n');
    assert.equal(r.dropped.stderr, 0);
    const log = shown.join('');
    assert.ok(log.length < 65 * 1024, `log bounded too (${log.length})`);
    assert.match(log, /inspection chatty: stdout over 65536 bytes, the rest is dropped/);
  });

  test('a non-zero exit is recorded, not a timeout', async () => {
    const r = await runInspection('fails', ['sh', '-c', 'exit 3'], workdir(), quiet);
    assert.equal(r.timedOut, false);
    assert.equal(r.exitCode, 3);
    assert.equal(r.link?.byproducts['return-value'], 3);
  });

  test('a timeout out of range is refused before anything runs', async () => {
    const dir = workdir();
    for (const timeoutSeconds of [0, -1, Number.NaN, 1e12]) {
      await assert.rejects(
        runInspection('x', ['touch', 'ran'], dir, quiet, { timeoutSeconds }),
        (e: unknown) => e instanceof VouchError && e.code === 'USAGE',
      );
    }
    assert.throws(() => readFileSync(join(dir, 'ran')));
  });

  test('a missing program is COMMAND_FAILED_TO_START', async () => {
    await assert.rejects(
      runInspection('x', ['no-such-program-vouch'], workdir(), quiet),
      (e: unknown) => e instanceof VouchError && e.code === 'COMMAND_FAILED_TO_START',
    );
  });
});
