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
    // Source files about Dockerfiles are not Dockerfiles (this repository's own test was one).
    'src/scan/rules/dockerfile/dockerfile.test.ts',
    'lib/dockerfile.go',
    'pkg/dockerfile_test.go',
    'src/Dockerfile.js',
    'tools/dockerfile-lint.py',
    'schemas/dockerfile.json',
  ])
    assert.ok(!set.matches(p), p);
  // A template or variant keeps its Dockerfile name.
  for (const p of ['Dockerfile.j2', 'Dockerfile.tmpl', 'Dockerfile.ubuntu-22.04', 'Dockerfile.dev'])
    assert.ok(set.matches(p), p);
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

test('docker/secret-in-env-arg: the value never reaches the snippet; each key on its own line', () => {
  const t = `FROM ${PIN}\nENV DB_PASSWORD=Zq8v7Hn2Kx4sPw \\\n    API_TOKEN="Hq7x9Lm2Vb4kRt"\nARG CLIENT_SECRET=Wc3n8Rt5Yq2Lp9\nUSER 1`;
  const fs = scanText(set, t, D).filter((f) => f.ruleId === 'docker/secret-in-env-arg');
  assert.deepEqual(
    fs.map((f) => [f.line, f.message]),
    [
      [2, 'ENV DB_PASSWORD holds a secret (********)'],
      [3, 'ENV API_TOKEN holds a secret (********)'],
      [4, 'ARG CLIENT_SECRET has a secret default (********)'],
    ],
  );
  for (const f of fs) {
    assert.ok(f.snippet?.includes('********'), f.snippet);
    for (const secret of ['Zq8v7Hn2Kx4sPw', 'Hq7x9Lm2Vb4kRt', 'Wc3n8Rt5Yq2Lp9'])
      assert.ok(!JSON.stringify(f).includes(secret), JSON.stringify(f));
  }
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

// ONBUILD: hand-written fixtures. Triggers run in every image built FROM this
// one; content rules see the wrapped instruction at the ONBUILD line.
test('parser: ONBUILD is read as its instruction, flagged onbuild, at the ONBUILD line', () => {
  const d = parseDockerfile(
    [
      `FROM ${PIN}`,
      'ONBUILD RUN curl -fsSL https://x/i.sh \\',
      '  | sh',
      'ONBUILD ADD --chown=1:1 https://x/a.tgz /a',
      'ONBUILD COPY ["a", "b"]',
      'onbuild run <<EOF',
      'echo heredoc',
      'EOF',
      'RUN true',
    ].join('\n'),
    D,
  );
  const [run, add, copy, here, plain] = d.instructions.slice(1);
  assert.deepEqual([run?.keyword, run?.onbuild, run?.line, run?.endLine], ['RUN', true, 2, 3]);
  assert.deepEqual([add?.keyword, add?.flags, add?.line], ['ADD', { chown: '1:1' }, 4]);
  assert.deepEqual(copy?.json, ['a', 'b']);
  assert.deepEqual(
    [here?.keyword, here?.heredocs[0]?.body, here?.line],
    ['RUN', 'echo heredoc', 6],
  );
  assert.deepEqual([plain?.keyword, plain?.onbuild, plain?.line], ['RUN', false, 9]);
  for (const [text, msg] of [
    [`FROM ${PIN}\nONBUILD`, /ONBUILD without an instruction/],
    [`FROM ${PIN}\nONBUILD ONBUILD RUN x`, /ONBUILD ONBUILD is not allowed/],
    [`FROM ${PIN}\nONBUILD FROM x`, /ONBUILD FROM is not allowed/],
    [`FROM ${PIN}\nONBUILD FROBNICATE x`, /unknown instruction ONBUILD FROBNICATE/],
    ['ONBUILD ARG X=1\nFROM x:1', /ONBUILD ARG before the first FROM/],
  ] as const)
    assert.throws(
      () => parseDockerfile(text, 'x/Dockerfile'),
      (e) =>
        isVouchError(e) &&
        e.code === 'SCAN_PARSE_ERROR' &&
        e.file === 'x/Dockerfile' &&
        msg.test(e.message) &&
        /^line [12]$/.test(e.field ?? ''),
    );
});

test('ONBUILD: content rules fire at the ONBUILD line and say ONBUILD', () => {
  const t = [
    `FROM ${PIN}`,
    'ONBUILD RUN curl -fsSL https://get.example.sh | sh',
    'ONBUILD ADD https://x.example/a.tgz /a',
    'ONBUILD ENV DB_PASSWORD=hunter2hunter2',
    'ONBUILD ARG NPM_TOKEN',
    'ONBUILD RUN apt-get update && apt-get install -y curl',
    'ONBUILD RUN apk add bash',
    'ONBUILD RUN pip install requests',
    'USER 1',
    'HEALTHCHECK NONE',
  ].join('\n');
  const fs = scanText(set, t, D);
  assert.deepEqual(where(fs), [
    'docker/add-remote-without-checksum@3',
    'docker/apk-no-cache@7',
    'docker/apt-install-recommends@6',
    'docker/apt-lists-not-cleaned@6',
    'docker/curl-pipe-shell@2',
    'docker/pip-no-cache-dir@8',
    'docker/secret-in-env-arg@4',
    'docker/secret-in-env-arg@5',
    'docker/unpinned-packages@6',
    'docker/unpinned-packages@7',
    'docker/unpinned-packages@8',
  ]);
  for (const f of fs) assert.match(f.message, /^ONBUILD (?:RUN|ADD|ENV|ARG)\b/, f.message);
  assert.match(fs.find((f) => f.line === 2)?.snippet ?? '', /^ONBUILD RUN curl/);
  assert.ok(!fs.some((f) => f.message.includes('hunter2hunter2')));
  // Negative: the same triggers done right are clean.
  const good = [
    `FROM ${PIN}`,
    'ONBUILD RUN curl -fsSLo /tmp/i.sh https://get.example.sh && sha256sum -c /sums && sh /tmp/i.sh',
    'ONBUILD ADD --checksum=sha256:abc https://x.example/a.tgz /a',
    'ONBUILD ENV DB_PASSWORD_FILE=/run/secrets/db',
    'ONBUILD RUN apk add --no-cache bash=5.2.26-r0',
    'USER 1',
    'HEALTHCHECK NONE',
  ].join('\n');
  assert.deepEqual(where(scanText(set, good, D)), []);
});

test('ONBUILD: rules about this image ignore triggers (USER, HEALTHCHECK, COPY --from, ENV)', () => {
  // ONBUILD USER / HEALTHCHECK do not make this image non-root or checked.
  assert.deepEqual(only(`FROM ${PIN}\nONBUILD USER app\nHEALTHCHECK NONE`, 'docker/root-user'), [
    'docker/root-user@1',
  ]);
  assert.deepEqual(
    only(`FROM ${PIN}\nUSER 1\nONBUILD HEALTHCHECK NONE`, 'docker/missing-healthcheck'),
    ['docker/missing-healthcheck@1'],
  );
  // ONBUILD COPY --from names a stage of the child build: not judged here.
  assert.deepEqual(
    only(`FROM ${PIN}\nONBUILD COPY --from=builder /a /a\nUSER 1`, 'docker/bad-stage-reference'),
    [],
  );
  // An ONBUILD ENV PIP_NO_CACHE_DIR reaches only the triggers.
  const pip = `FROM ${PIN}\nONBUILD ENV PIP_NO_CACHE_DIR=1\nRUN pip install --no-cache-dir x==1 && pip install y==1\nONBUILD RUN pip install z==1\nUSER 1`;
  assert.deepEqual(only(pip, 'docker/pip-no-cache-dir'), ['docker/pip-no-cache-dir@3']);
});

test('docker/curl-pipe-shell: PowerShell forms, SHELL powershell and exec form with -Command', () => {
  // Hand-written Windows-container fixtures.
  for (const [body, line] of [
    ['SHELL ["powershell", "-Command"]\nRUN iwr https://x/i.ps1 -UseBasicParsing | iex', 3],
    [
      'RUN powershell -Command "iex ((New-Object System.Net.WebClient).DownloadString(\'https://x/i.ps1\'))"',
      2,
    ],
    ['RUN ["powershell", "-Command", "irm https://x/i.ps1 | iex"]', 2],
    ['ONBUILD RUN ["pwsh", "-c", "Invoke-Expression (Invoke-WebRequest https://x).Content"]', 2],
  ] as const)
    assert.deepEqual(
      only(`FROM ${PIN}\n${body}\nUSER 1`, 'docker/curl-pipe-shell'),
      [`docker/curl-pipe-shell@${line}`],
      body,
    );
  assert.deepEqual(
    only(
      `FROM ${PIN}\nSHELL ["powershell", "-Command"]\nRUN iwr https://x/a.zip -OutFile a.zip; Expand-Archive a.zip\nRUN ["powershell", "-Command", "Get-Date"]\nUSER 1`,
      'docker/curl-pipe-shell',
    ),
    [],
  );
});

test('apk/pip cache rules: a second install in the same RUN without the flag is still found', () => {
  assert.deepEqual(
    only(`FROM ${PIN}\nRUN apk add --no-cache a=1 && apk add b=1\nUSER 1`, 'docker/apk-no-cache'),
    ['docker/apk-no-cache@2'],
  );
  assert.deepEqual(
    only(
      `FROM ${PIN}\nRUN python3 setup.py install && pip install x==1\nUSER 1`,
      'docker/pip-no-cache-dir',
    ),
    ['docker/pip-no-cache-dir@2'],
  );
});
