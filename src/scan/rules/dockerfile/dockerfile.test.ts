import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isVouchError } from '../../../core/errors.ts';
import { scanText, where } from '../testing.ts';
import { dockerfileRuleSet as set } from './index.ts';
import { parseDockerfile } from './parse.ts';

const D = 'Dockerfile';
const only = (text: string, rule: string) => where(scanText(set, text, D), rule);
const PIN = 'alpine:3.20@sha256:0000000000000000000000000000000000000000000000000000000000000000';

test('parser: continuations, comments inside them, heredocs, JSON form, escape directive', () => {
  const d = parseDockerfile(
    [
      '# syntax=docker/dockerfile:1',
      'ARG BASE=debian:12',
      'FROM $' + '{BASE} AS build',
      'RUN apt-get update \\',
      '  # a comment inside',
      '',
      '  && echo hi',
      'RUN <<EOF bash',
      'set -e',
      'echo body',
      'EOF',
      'CMD ["node", "server.js"]',
      'COPY --from=build --chown=1:1 /a /b',
    ].join('\n'),
    D,
  );
  assert.equal(d.stages[0]?.resolvedImage, 'debian:12');
  assert.equal(d.stages[0]?.name, 'build');
  const run = d.instructions.filter((i) => i.keyword === 'RUN');
  assert.equal(run[0]?.line, 4);
  assert.equal(run[0]?.endLine, 7);
  assert.match(run[0]?.args ?? '', /update\s+&& echo hi/);
  assert.equal(run[1]?.heredocs[0]?.body, 'set -e\necho body');
  assert.equal(run[1]?.line, 8);
  assert.deepEqual(d.instructions.find((i) => i.keyword === 'CMD')?.json, ['node', 'server.js']);
  const copy = d.instructions.find((i) => i.keyword === 'COPY');
  assert.equal(copy?.line, 13);
  assert.deepEqual(copy?.flags, { from: 'build', chown: '1:1' });
  const bt = parseDockerfile('# escape=`\nFROM x:1\nRUN a `\n  b\nUSER 1', D);
  assert.equal(bt.instructions[1]?.args, 'a    b');
  assert.equal(bt.instructions[2]?.line, 5);
});

test('parser: bad input is SCAN_PARSE_ERROR with file and line', () => {
  for (const [text, line] of [
    ['FROM a:1\nRUN <<EOF\nno end', 'line 2'],
    ['FROM a:1\nFROBNICATE x', 'line 2'],
    ['# just a comment\n', 'line 1'],
    ['RUN echo before FROM', 'line 1'],
  ] as const) {
    assert.throws(
      () => parseDockerfile(text, 'x/Dockerfile'),
      (e) =>
        isVouchError(e) &&
        e.code === 'SCAN_PARSE_ERROR' &&
        e.file === 'x/Dockerfile' &&
        e.field === line,
    );
  }
});

test('matches Dockerfile/Containerfile names only', () => {
  for (const p of [
    'Dockerfile',
    'a/Containerfile',
    'Dockerfile.prod',
    'build/api.dockerfile',
    'Containerfile-dev',
  ])
    assert.ok(set.matches(p), p);
  for (const p of [
    'Dockerfile.md',
    'a/.dockerignore',
    'docs/dockerfile-guide.txt',
    'notdockerfile.yaml',
  ])
    assert.ok(!set.matches(p), p);
});

test('docker/latest-base-image and docker/unpinned-base-image: one finding per FROM', () => {
  const t =
    'FROM node\nFROM node:latest AS b\nFROM node:22 AS c\nFROM c\nFROM scratch\nFROM ' +
    PIN +
    '\nUSER 1';
  assert.deepEqual(
    where(scanText(set, t, D)).filter((x) => /base-image/.test(x)),
    ['docker/latest-base-image@1', 'docker/latest-base-image@2', 'docker/unpinned-base-image@3'],
  );
  // ARG expansion; an ARG without default cannot be judged.
  assert.deepEqual(only(`ARG V=3.20\nFROM alpine:\${V}\nUSER 1`, 'docker/unpinned-base-image'), [
    'docker/unpinned-base-image@2',
  ]);
  assert.deepEqual(only('ARG IMG\nFROM $IMG\nUSER 1', 'docker/latest-base-image'), []);
});

test('docker/root-user', () => {
  assert.deepEqual(only(`FROM ${PIN}\nRUN x`, 'docker/root-user'), ['docker/root-user@1']);
  assert.deepEqual(only(`FROM ${PIN}\nUSER app\nUSER root`, 'docker/root-user'), [
    'docker/root-user@3',
  ]);
  assert.deepEqual(only(`FROM ${PIN}\nUSER 0:0`, 'docker/root-user'), ['docker/root-user@2']);
  assert.deepEqual(
    only(`FROM ${PIN} AS a\nUSER root\nFROM ${PIN}\nUSER 10001`, 'docker/root-user'),
    [],
  );
});

test('docker/add-remote-without-checksum', () => {
  assert.deepEqual(
    only(
      `FROM ${PIN}\nADD https://x.example/a.tgz /a\nUSER 1`,
      'docker/add-remote-without-checksum',
    ),
    ['docker/add-remote-without-checksum@2'],
  );
  assert.deepEqual(
    only(
      `FROM ${PIN}\nADD --checksum=sha256:abc https://x.example/a.tgz /a\nADD local.tgz /b\nUSER 1`,
      'docker/add-remote-without-checksum',
    ),
    [],
  );
});

test('docker/curl-pipe-shell', () => {
  for (const run of [
    'curl -fsSL https://get.example.sh | sh',
    'wget -qO- https://x | sudo bash -s --',
    'sh -c "$(curl -fsSL https://x/install.sh)"',
    'apt-get update && curl -s https://x | python3 -',
  ])
    assert.deepEqual(
      only(`FROM ${PIN}\nRUN ${run}\nUSER 1`, 'docker/curl-pipe-shell'),
      ['docker/curl-pipe-shell@2'],
      run,
    );
  for (const run of [
    'curl -fsSLo /tmp/i.sh https://x && sha256sum -c sums && sh /tmp/i.sh',
    'curl https://x | tar xz',
    'echo "curl x | sh"',
  ])
    assert.deepEqual(only(`FROM ${PIN}\nRUN ${run}\nUSER 1`, 'docker/curl-pipe-shell'), [], run);
  // in a heredoc body
  assert.deepEqual(
    only(`FROM ${PIN}\nRUN <<EOF\ncurl https://x | bash\nEOF\nUSER 1`, 'docker/curl-pipe-shell'),
    ['docker/curl-pipe-shell@2'],
  );
});

test('docker/secret-in-env-arg: value redacted, references and public values ignored', () => {
  const fs = scanText(
    set,
    `FROM ${PIN}\nENV DB_PASSWORD=hunter2hunter2\nARG NPM_TOKEN\nENV AWS=AKIAIOSFODNN7EXAMPLE\nUSER 1`,
    D,
  ).filter((f) => f.ruleId === 'docker/secret-in-env-arg');
  assert.deepEqual(
    fs.map((f) => [f.line, f.severity]),
    [
      [2, 'high'],
      [3, 'medium'],
      [4, 'high'],
    ],
  );
  assert.ok(
    !fs.some(
      (f) => f.message.includes('hunter2hunter2') || f.message.includes('AKIAIOSFODNN7EXAMPLE'),
    ),
  );
  assert.deepEqual(
    only(
      `FROM ${PIN}\nENV GPG_KEY A035C8C19219BA821ECEA86B64E628F8D684696D\nENV PASSWORD_FILE=/run/secrets/pw\nENV API_TOKEN=\${API_TOKEN}\nENV PATH=/usr/bin\nUSER 1`,
      'docker/secret-in-env-arg',
    ),
    [],
  );
});

test('package install hygiene rules: each once per RUN', () => {
  const bad = `FROM ${PIN}\nRUN apt-get update && apt-get install -y curl git && apt-get install -y jq\nRUN apk add bash\nRUN pip install requests\nUSER 1`;
  const fs = where(scanText(set, bad, D)).filter((x) => /apt|apk|pip|packages/.test(x));
  assert.deepEqual(fs, [
    'docker/apk-no-cache@3',
    'docker/apt-install-recommends@2',
    'docker/apt-lists-not-cleaned@2',
    'docker/pip-no-cache-dir@4',
    'docker/unpinned-packages@2',
    'docker/unpinned-packages@3',
    'docker/unpinned-packages@4',
  ]);
  const good = `FROM ${PIN}\nRUN apt-get update && apt-get install -y --no-install-recommends curl=8.5.0-2 \\\n && rm -rf /var/lib/apt/lists/*\nRUN apk add --no-cache bash=5.2.26-r0\nRUN pip install --no-cache-dir requests==2.32.3 -r requirements.txt\nRUN --mount=type=cache,target=/var/cache/apk apk add --update jq=1.7-r0\nUSER 1`;
  assert.deepEqual(
    where(scanText(set, good, D)).filter((x) => /apt|apk|pip|packages/.test(x)),
    [],
  );
});

test('docker/missing-healthcheck is info and satisfied by HEALTHCHECK NONE', () => {
  const fs = scanText(set, `FROM ${PIN}\nUSER 1`, D).filter(
    (f) => f.ruleId === 'docker/missing-healthcheck',
  );
  assert.deepEqual(
    fs.map((f) => [f.line, f.severity]),
    [[1, 'info']],
  );
  assert.deepEqual(only(`FROM ${PIN}\nHEALTHCHECK NONE\nUSER 1`, 'docker/missing-healthcheck'), []);
});

test('docker/bad-stage-reference: later stage, unknown bare name, index, duplicate', () => {
  const t = [
    `FROM ${PIN} AS base`,
    'COPY --from=builder /a /a',
    'COPY --from=2 /b /b',
    'COPY --from=helper /c /c',
    `FROM ${PIN} AS builder`,
    'COPY --from=base /d /d',
    'COPY --from=0 /e /e',
    'COPY --from=nginx:1.27 /f /f',
    `FROM ${PIN} AS base`,
    'USER 1',
  ].join('\n');
  assert.deepEqual(only(t, 'docker/bad-stage-reference'), [
    'docker/bad-stage-reference@2',
    'docker/bad-stage-reference@3',
    'docker/bad-stage-reference@4',
    'docker/bad-stage-reference@9',
  ]);
});
