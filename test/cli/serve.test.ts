// `vouch serve --admission` as an operator runs it: a child process, TLS
// files on disk, evidence in a directory store, stopped by SIGTERM.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { DirectoryStore } from '../../src/store/index.ts';
import {
  admit,
  alice,
  hexOf,
  makeTls,
  provenanceBundle,
  review,
  workload,
} from '../server/helpers.ts';
import { CLI_MAIN, isolatedEnv, show, tempDir, vouch } from './helpers.ts';

const POLICY = (pem: string) => `apiVersion: vouch.dev/policy/v1
kind: Policy
metadata:
  name: prod
trust:
  signers:
    - name: alice
      key: |
        ${pem.trim().replace(/\n/g, '\n        ')}
require:
  - name: provenance
    predicateType: slsaprovenance
`;

async function setup(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = await tempDir(t);
  await makeTls(dir);
  await writeFile(join(dir, 'policy.yaml'), POLICY(alice.publicKeyPem));
  const good = hexOf('served image');
  await new DirectoryStore(join(dir, 'store')).put(await provenanceBundle(good));
  return { dir, good };
}

describe('vouch serve --admission', () => {
  test('serves AdmissionReviews over HTTPS, logs one JSON line per decision, stops on SIGTERM', async (t) => {
    const { dir, good } = await setup(t);
    const child = spawn(
      process.execPath,
      [
        CLI_MAIN,
        'serve',
        '--admission',
        '--policy',
        'policy.yaml',
        '--tls-cert',
        'tls.crt',
        '--tls-key',
        'tls.key',
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--evidence',
        'store:store',
        '--exclude-namespaces',
        'kube-system,vouch-system',
        '--json',
      ],
      { cwd: dir, env: isolatedEnv(dir), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    t.after(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const lines: string[] = [];
    const waiting: Array<() => void> = [];
    createInterface({ input: child.stdout }).on('line', (l) => {
      lines.push(l);
      waiting.shift()?.();
    });
    child.on('close', () => {
      for (const w of waiting.splice(0)) w();
    });
    const next = async () => {
      if (lines.length === 0) await new Promise<void>((r) => waiting.push(r));
      const l = lines.shift();
      if (l === undefined) throw new Error(`no more output; stderr: ${stderr}`);
      return JSON.parse(l);
    };
    const started = await next();
    assert.equal(started.msg, 'listening', stderr);
    assert.equal(started.mode, 'enforce');
    assert.match(started.policy.digest, /^sha256:/);
    const port = Number(new URL(started.url).port);
    const { readFile } = await import('node:fs/promises');
    const hook = { port, ca: await readFile(join(dir, 'ca.crt'), 'utf8') };

    const allow = await admit(
      hook,
      review(workload('Pod', { containers: [`r.example/app@sha256:${good}`] }), { uid: 'u-1' }),
    );
    assert.equal(allow.json.response.allowed, true, allow.text);
    const deny = await admit(
      hook,
      review(workload('Job', { containers: [`r.example/app:latest`] }), { uid: 'u-2' }),
    );
    assert.equal(deny.json.response.allowed, false);

    const log1 = await next();
    assert.equal(log1.uid, 'u-1');
    assert.equal(log1.allowed, true);
    assert.deepEqual(log1.digests, [`sha256:${good}`]);
    const log2 = await next();
    assert.equal(log2.uid, 'u-2');
    assert.equal(log2.allowed, false);
    assert.equal(log2.kind, 'batch/Job');
    assert.equal(log2.reason, 'tag');

    child.kill('SIGTERM');
    const code = await new Promise((r) => child.on('close', r));
    assert.equal(code, 0, stderr);
    assert.match(stderr, /SIGTERM, stopping/);
  });

  test('bad options, a bad policy and missing TLS files exit 2 with the reason', async (t) => {
    const { dir } = await setup(t);
    const env = isolatedEnv(dir);
    const base = [
      'serve',
      '--admission',
      '--policy',
      'policy.yaml',
      '--tls-cert',
      'tls.crt',
      '--tls-key',
      'tls.key',
      '--port',
      '0',
    ];
    const cases: Array<[string[], RegExp]> = [
      [['serve', '--policy', 'policy.yaml'], /--admission/],
      [
        ['serve', '--admission', '--tls-cert', 'tls.crt', '--tls-key', 'tls.key'],
        /--policy is required/,
      ],
      [[...base, '--mode', 'audit'], /--mode must be enforce or warn/],
      [[...base, '--timeout-ms', '30000'], /--timeout-ms must be an integer from 1 to 29000/],
      [[...base, '--evidence', 'ftp'], /--evidence must be one of/],
      // A store that is not there is a typo or a missing mount, not an empty store.
      [[...base, '--evidence', 'store:no-such-dir'], /FILE_NOT_FOUND: .*no-such-dir/],
      [
        [...base, '--evidence', 'store:policy.yaml'],
        /FILE_READ: .*policy\.yaml is not a directory/,
      ],
      [[...base, '--cache-ttl', 'soon'], /--cache-ttl/],
      [
        [
          'serve',
          '--admission',
          '--policy',
          'nope.yaml',
          '--tls-cert',
          'tls.crt',
          '--tls-key',
          'tls.key',
        ],
        /FILE_NOT_FOUND/,
      ],
      [
        [
          'serve',
          '--admission',
          '--policy',
          'policy.yaml',
          '--tls-cert',
          'missing.crt',
          '--tls-key',
          'tls.key',
        ],
        /FILE_NOT_FOUND.*missing\.crt/,
      ],
      [
        [
          'serve',
          '--admission',
          '--policy',
          'policy.yaml',
          '--tls-cert',
          'policy.yaml',
          '--tls-key',
          'tls.key',
        ],
        /FILE_READ.*not a PEM certificate/,
      ],
    ];
    for (const [args, re] of cases) {
      const r = await vouch(args, { cwd: dir, env });
      assert.equal(r.code, 2, `${args.join(' ')}\n${show(r)}`);
      assert.match(r.stderr, re, args.join(' '));
    }
    await writeFile(join(dir, 'bad.yaml'), 'apiVersion: vouch.dev/policy/v1\nkind: Policy\n');
    const bad = await vouch(
      [
        'serve',
        '--admission',
        '--policy',
        'bad.yaml',
        '--tls-cert',
        'tls.crt',
        '--tls-key',
        'tls.key',
      ],
      { cwd: dir, env },
    );
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /POLICY_MALFORMED/);
  });
});
