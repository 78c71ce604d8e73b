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

function sh(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { cwd: dir, env, stdio: 'inherit' });
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} exited with ${r.status}`);
}

function vouch(args: string[], expect: number): void {
  process.stdout.write(`$ vouch ${args.join(' ')}\n`);
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, env, stdio: 'inherit' });
  if (r.status !== expect) fail(`vouch ${args[0]} exited with ${r.status}, expected ${expect}`);
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
sh('git', ['init', '-q', '-b', 'main']);
sh('git', ['add', '.']);
sh('git', [
  '-c',
  'user.name=Demo',
  '-c',
  'user.email=demo@example.com',
  'commit',
  '-q',
  '-m',
  'hello-vouch 1.0.0',
]);

say('Generate a signing key (ECDSA P-256, passphrase from VOUCH_PASSPHRASE)');
vouch(['keys', 'generate', '--out', 'release'], 0);

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
        '': { name: 'hello-vouch', version: '1.0.0', dependencies: { ms: '^2.1.3' } },
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

say('Verify the product against the public key: expected VERIFIED');
vouch(
  ['verify', 'dist/hello-vouch-1.0.0.tgz', '--key', 'release.pub', '--type', 'slsaprovenance'],
  0,
);

say('A written policy: provenance from our builder and an SBOM, both signed by the release key');
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
ssdf:
  PS.3.1: [provenance]
  PS.3.2: [sbom]
`,
);
vouch(['verify', 'dist/hello-vouch-1.0.0.tgz', '--policy', 'policy.yaml'], 0);

say(
  'NIST SSDF matrix from the verified evidence (exit 1: this demo has no scans, tests or rebuild)',
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
vouch(['keys', 'generate', '--out', 'mallory', '--no-passphrase'], 0);
vouch(['verify', 'dist/hello-vouch-1.0.0.tgz', '--key', 'mallory.pub'], 1);

say(
  'Demo passed: the product verified and met the policy; the tampered product and the wrong key were rejected.',
);
if (keep) process.stdout.write(`work directory kept: ${dir}\n`);
else rmSync(dir, { recursive: true, force: true });
