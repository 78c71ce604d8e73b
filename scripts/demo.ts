/**
 * The end-to-end demo behind `./vouchw demo`: in a fresh temp directory it
 * makes a small npm package under git, generates a signing key, runs the real
 * build (`npm pack`) under `vouch run`, verifies the product, and shows that a
 * tampered product and a wrong key are both rejected. Every step is a real
 * CLI invocation; the demo fails (exit 1) if any outcome is not the expected one.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLI = new URL('../src/cli/main.ts', import.meta.url).pathname;
const keep = process.argv.includes('--keep');
const dir = mkdtempSync(join(tmpdir(), 'vouch-demo-'));
const env = { ...process.env, VOUCH_PASSPHRASE: 'demo passphrase — use a real secret in CI' };

function say(text: string): void {
  process.stdout.write(`\n\x1b[1m== ${text}\x1b[0m\n`);
}

/** Extra environment for one command (shown before it, as a shell would). */
type Vars = Record<string, string>;

function shown(vars: Vars): string {
  return Object.entries(vars)
    .map(([k, v]) => `${k}=${quoted(v)} `)
    .join('');
}

/** An argument as a POSIX shell needs it, so every printed `$ vouch …` line can be pasted and run. */
function quoted(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}

function commandLine(args: string[]): string {
  return args.map(quoted).join(' ');
}

function sh(cmd: string, args: string[], cwd = dir): void {
  const r = spawnSync(cmd, args, { cwd, env, stdio: 'inherit' });
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} exited with ${r.status}`);
}

function vouch(args: string[], expect: number, vars: Vars = {}): void {
  process.stdout.write(`$ ${shown(vars)}vouch ${commandLine(args)}\n`);
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: dir,
    env: { ...env, ...vars },
    stdio: 'inherit',
  });
  if (r.status !== expect) fail(`vouch ${args[0]} exited with ${r.status}, expected ${expect}`);
}

/** A vouch command whose stdout the demo reads (and shows unless `quiet`); stderr goes to the terminal. */
function vouchOut(args: string[], expect: number, vars: Vars = {}, quiet = false): string {
  process.stdout.write(`$ ${shown(vars)}vouch ${commandLine(args)}\n`);
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: dir,
    env: { ...env, ...vars },
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  if (!quiet) process.stdout.write(r.stdout);
  if (r.status !== expect) fail(`vouch ${args[0]} exited with ${r.status}, expected ${expect}`);
  return r.stdout;
}

/** A vouch command whose --json output the demo reads, without showing it. */
function vouchJson(args: string[], expect: number): unknown {
  const out = vouchOut(args, expect, {}, true);
  try {
    return JSON.parse(out);
  } catch {
    return fail(`vouch ${args[0]} --json printed no JSON`);
  }
}

function git(args: string[], cwd = dir): void {
  sh('git', ['-c', 'user.name=Demo', '-c', 'user.email=demo@example.com', ...args], cwd);
}

function fail(message: string): never {
  process.stderr.write(`\ndemo FAILED: ${message}\n(work directory kept: ${dir})\n`);
  process.exit(1);
}

say(`A small npm package under git, in ${dir}`);
mkdirSync(join(dir, 'lib'));
writeFileSync(
  join(dir, 'package.json'),
  `${JSON.stringify({ name: 'hello-vouch', version: '1.0.0', main: 'lib/index.js', files: ['lib'] }, null, 2)}\n`,
);
writeFileSync(join(dir, 'lib', 'index.js'), "export const greet = (name) => 'hello, ' + name;\n");
git(['init', '-q', '-b', 'main']);
git(['add', '.']);
git(['commit', '-q', '-m', 'hello-vouch 1.0.0']);

say('Generate a signing key (ECDSA P-256, passphrase from VOUCH_PASSPHRASE)');
vouch(['keys', 'generate', '--prefix', 'release'], 0);

say('Build under vouch run: npm pack, with signed SLSA provenance for what it produced');
vouch(
  [
    'run',
    '--key',
    'release.key',
    '--',
    'sh',
    '-c',
    'mkdir -p dist && npm pack --silent --pack-destination dist',
  ],
  0,
);

say('What the store knows about the product');
vouch(['evidence', 'ls', 'dist/hello-vouch-1.0.0.tgz'], 0);

say('SBOM of the source tree (CycloneDX 1.6), signed as evidence about the product');
writeFileSync(
  join(dir, 'package-lock.json'),
  `${JSON.stringify(
    {
      name: 'hello-vouch',
      version: '1.0.0',
      lockfileVersion: 3,
      packages: {
        '': {
          name: 'hello-vouch',
          version: '1.0.0',
          dependencies: { lodash: '4.17.11', ms: '^2.1.3' },
        },
        'node_modules/lodash': {
          version: '4.17.11',
          resolved: 'https://registry.npmjs.org/lodash/-/lodash-4.17.11.tgz',
          license: 'MIT',
        },
        'node_modules/ms': {
          version: '2.1.3',
          resolved: 'https://registry.npmjs.org/ms/-/ms-2.1.3.tgz',
          integrity:
            'sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==',
          license: 'MIT',
        },
      },
    },
    null,
    2,
  )}\n`,
);
vouch(['sbom', '.', '-o', 'sbom.cdx.json'], 0);
vouch(
  [
    'sbom',
    '.',
    '-o',
    'sbom.cdx.json',
    '--attest',
    '--subject',
    'dist/hello-vouch-1.0.0.tgz',
    '--key',
    'release.key',
  ],
  0,
);

say('Vulnerabilities: an offline OSV database, a known-vulnerable lodash, VEX, SARIF');
// An excerpt of the real advisory GHSA-jf85-cpcp-j695 (CVE-2019-10744), as OSV publishes it.
writeFileSync(
  join(dir, 'osv.jsonl'),
  `${JSON.stringify({
    schema_version: '1.6.0',
    id: 'GHSA-jf85-cpcp-j695',
    modified: '2024-01-10T00:00:00Z',
    published: '2019-07-10T19:45:23Z',
    aliases: ['CVE-2019-10744'],
    summary: 'Prototype Pollution in lodash',
    severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:H' }],
    affected: [
      {
        package: { ecosystem: 'npm', name: 'lodash', purl: 'pkg:npm/lodash' },
        ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '4.17.12' }] }],
      },
    ],
  })}\n`,
);
vouch(['db', 'import', 'osv.jsonl', '--db', '.osv-db'], 0);
vouch(['vulns', '.', '--db', '.osv-db', '--fail-on', 'high'], 1);
writeFileSync(
  join(dir, 'vex.json'),
  `${JSON.stringify(
    {
      '@context': 'https://openvex.dev/ns/v0.2.0',
      '@id': 'https://example.com/vex/hello-vouch-1',
      author: 'hello-vouch security team',
      timestamp: '2026-01-01T00:00:00Z',
      version: 1,
      statements: [
        {
          vulnerability: { name: 'CVE-2019-10744' },
          products: [{ '@id': 'pkg:npm/lodash@4.17.11' }],
          status: 'not_affected',
          justification: 'vulnerable_code_not_in_execute_path',
          impact_statement: 'hello-vouch never calls defaultsDeep',
        },
      ],
    },
    null,
    2,
  )}\n`,
);
vouch(['vulns', '.', '--db', '.osv-db', '--vex', 'vex.json', '--fail-on', 'high'], 0);
vouch(
  ['vulns', '.', '--db', '.osv-db', '--vex', 'vex.json', '--format', 'sarif', '-o', 'vulns.sarif'],
  0,
);
vouch(
  [
    'vulns',
    '.',
    '--db',
    '.osv-db',
    '--vex',
    'vex.json',
    '--attest-key',
    'release.key',
    '--subject',
    'dist/hello-vouch-1.0.0.tgz',
  ],
  0,
);

say('Scan the project for misconfigurations, leaked secrets and dependency policy');
// The release key lies beside the project for this demo: the scan finds it (critical).
vouch(['scan', '.', '--fail-on', 'high'], 1);
const report = vouchJson(['scan', '.', '--only', 'secrets', '--json'], 0) as {
  findings: { ruleId: string; file: string; fingerprint: string }[];
};
const keyFinding = report.findings.find((f) => f.file === 'release.key');
if (keyFinding === undefined) fail('the scan did not report release.key');

say('Accept that one finding in the scan baseline, with a justification');
writeFileSync(
  join(dir, '.vouch-scan-baseline.json'),
  `${JSON.stringify(
    {
      version: 1,
      findings: [
        {
          ruleId: keyFinding.ruleId,
          file: keyFinding.file,
          fingerprint: keyFinding.fingerprint,
          justification: 'demo release key: encrypted, generated for this run, never committed',
        },
      ],
    },
    null,
    2,
  )}\n`,
);
process.stdout.write(
  `.vouch-scan-baseline.json:\n${readFileSync(join(dir, '.vouch-scan-baseline.json'), 'utf8')}`,
);

say('Leak an AWS access key id into the source: expected exit 1 at --fail-on high');
// Assembled at run time, so that scanning this repository finds no key in scripts/demo.ts.
const leakedKeyId = ['AK', 'IA', 'Q7LM2XVZ', 'RT4KPAZW'].join('');
writeFileSync(join(dir, 'lib', 'aws.js'), `export const accessKeyId = '${leakedKeyId}';\n`);
const leakScan = vouchOut(['scan', '.', '--fail-on', 'high'], 1);
if (!leakScan.includes('secret/aws-access-key-id')) fail('the scan did not report the leaked key');
rmSync(join(dir, 'lib', 'aws.js'));

say('Leak removed: the scan passes, signed as evidence about the product');
vouch(
  [
    'scan',
    '.',
    '--fail-on',
    'high',
    '--attest',
    '--subject',
    'dist/hello-vouch-1.0.0.tgz',
    '--key',
    'release.key',
  ],
  0,
);

say('Verify the product against the public key: expected VERIFIED');
vouch(
  ['verify', 'dist/hello-vouch-1.0.0.tgz', '--key', 'release.pub', '--type', 'slsaprovenance'],
  0,
);

say(
  'A written policy: provenance from our builder, an SBOM and a clean scan, all signed by the release key',
);
writeFileSync(
  join(dir, 'policy.yaml'),
  `apiVersion: vouch.dev/policy/v1
kind: Policy
metadata:
  name: hello-vouch-release
trust:
  signers:
    - name: release
      key: release.pub
require:
  - name: provenance
    predicateType: slsaprovenance
    signers: [release]
    maxAge: 1d
    where: predicate.buildDefinition.buildType == "https://vouch.dev/buildtypes/run/v1"
  - name: sbom
    predicateType: cyclonedx
    signers: [release]
  - name: scan
    predicateType: https://vouch.dev/attestation/scan/v1
    signers: [release]
    where: predicate.clean == true
ssdf:
  PS.3.1: [provenance]
  PS.3.2: [sbom]
  PW.7.2: [scan]
`,
);
vouch(['verify', 'dist/hello-vouch-1.0.0.tgz', '--policy', 'policy.yaml'], 0);

say(
  'NIST SSDF matrix from the verified evidence (exit 1: no vulnerability scan, tests, signed commit or rebuild of this product)',
);
vouch(['comply', 'dist/hello-vouch-1.0.0.tgz', '--policy', 'policy.yaml'], 1);

say('Tamper with one byte of the product: expected DENIED (exit 1)');
const tampered = join(dir, 'tampered.tgz');
copyFileSync(join(dir, 'dist', 'hello-vouch-1.0.0.tgz'), tampered);
const bytes = readFileSync(tampered);
bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0xff;
writeFileSync(tampered, bytes);
vouch(['verify', 'tampered.tgz', '--policy', 'policy.yaml'], 1);

say("Right product, someone else's key: expected NOT VERIFIED (exit 1)");
vouch(['keys', 'generate', '--prefix', 'mallory', '--no-passphrase'], 0);
vouch(['verify', 'dist/hello-vouch-1.0.0.tgz', '--key', 'mallory.pub'], 1);

say('Reproducible builds: a tiny project in tiny/ whose build embeds the current time');
const tiny = join(dir, 'tiny');
mkdirSync(tiny);
writeFileSync(
  join(tiny, 'build.sh'),
  'mkdir -p dist && { echo "tiny 1.0"; TZ=UTC date; } > dist/out.txt\n',
);
git(['init', '-q', '-b', 'main'], tiny);
git(['add', '.'], tiny);
git(['commit', '-q', '-m', 'tiny 1.0'], tiny);
const repro = ['repro', 'check', '--source', 'tiny', '--products', 'dist/**'];
const notReproducible = vouchOut([...repro, '--', 'sh', 'build.sh'], 1);
if (!/clock\b.*\n.*SOURCE_DATE_EPOCH/.test(notReproducible)) {
  fail('repro check did not blame the clock with the SOURCE_DATE_EPOCH fix');
}

say('The fix: take the time from SOURCE_DATE_EPOCH; rebuilt, reproducible, and signed as evidence');
writeFileSync(
  join(tiny, 'build.sh'),
  'mkdir -p dist && { echo "tiny 1.0"; TZ=UTC date -d "@$SOURCE_DATE_EPOCH" +%FT%TZ; } > dist/out.txt\n',
);
git(['commit', '-q', '-a', '-m', 'build: use SOURCE_DATE_EPOCH'], tiny);
const epoch = { SOURCE_DATE_EPOCH: '1700000000' };
vouch([...repro, '--attest', '--key', 'release.key', '--', 'sh', 'build.sh'], 0, epoch);

say("Anyone's build of that commit verifies against the rebuild attestation");
sh(
  'sh',
  ['-c', `SOURCE_DATE_EPOCH=${epoch.SOURCE_DATE_EPOCH} sh build.sh && cat dist/out.txt`],
  tiny,
);
vouch(
  [
    'verify',
    'tiny/dist/out.txt',
    '--key',
    'release.pub',
    '--type',
    'https://vouch.dev/attestation/rebuild/v1',
  ],
  0,
);

say(
  'Demo passed: the product verified and met the policy (with a clean scan); the tampered product and the wrong key were rejected; the fixed build rebuilt bit for bit and verified.',
);
if (keep) process.stdout.write(`work directory kept: ${dir}\n`);
else rmSync(dir, { recursive: true, force: true });
