import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { digestFile, isDigestString, parseDigest } from '../../core/digest.ts';
import { readTextFile } from '../../core/json.ts';
import { resolvePredicateType } from '../../core/predicates.ts';
import { parseBundle, type Signer } from '../../sign/index.ts';
import { DirectoryStore } from '../../store/index.ts';
import {
  type ArtifactVerdict,
  type CandidateBundle,
  requireEvidence,
  verifyArtifact,
} from '../../verify/index.ts';
import { parse, usage } from '../args.ts';
import { INTOTO_VERIFY_HELP, INTOTO_VERIFY_OPTIONS, runIntotoVerify } from '../intoto.ts';
import { displayPath, type Io, printJson } from '../io.ts';
import { TRUST_HELP, TRUST_OPTIONS, trustPolicyFrom } from '../trust.ts';
import type { Command } from './command.ts';

const HELP = `Usage: vouch verify <file | sha256:HEX> [trust] [options]

Finds every bundle about the artifact's digest (in the store and given with
--bundle), verifies each signature, certificate chain, transparency-log entry
and timestamp where present, checks the artifact's digest is a subject, and
decides. Only verified evidence counts. Exit 0 when the decision passes,
1 when it does not, 2 on bad input.

${TRUST_HELP}

${INTOTO_VERIFY_HELP}

Options:
  --bundle FILE       a bundle to consider (repeatable); malformed ones are input errors
  --type T            require verified evidence of this predicate type (repeatable;
                      URI or short name, e.g. slsaprovenance)
  --store DIR         evidence store to search (default: .vouch)
  --no-store          do not search the store
  --json              machine-readable verdict on stdout`;

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'verify all evidence about an artifact and decide',
  help: HELP,
  async run(argv, io) {
    const { values, positionals } = parse('verify', argv, {
      ...TRUST_OPTIONS,
      bundle: { type: 'string', multiple: true },
      type: { type: 'string', multiple: true },
      store: { type: 'string', default: '.vouch' },
      'no-store': { type: 'boolean' },
      ...INTOTO_VERIFY_OPTIONS,
    });
    if (values.help) {
      io.stdout(`${HELP}\n`);
      return 0;
    }
    if (values['intoto-layout']) return runIntotoVerify(values, io);
    if (positionals.length !== 1) throw usage('verify', 'give exactly one file or sha256:HEX');
    const target = positionals[0] as string;
    const types = (values.type ?? []).map(resolvePredicateType);
    const trust = await trustPolicyFrom('verify', values, cacheDir(io));

    const file = isDigestString(target) ? undefined : resolve(io.cwd, target);
    const sha256 = file ? ((await digestFile(file)).sha256 as string) : digestOf(target);
    const candidates: CandidateBundle[] = [];
    for (const b of values.bundle ?? []) {
      const text = await readTextFile(resolve(io.cwd, b));
      parseBundle(text, b); // an explicitly named bundle that is not a bundle is bad input (exit 2)
      candidates.push({ source: b, json: text });
    }
    if (!values['no-store']) {
      const store = new DirectoryStore(resolve(io.cwd, values.store));
      for (const entry of await store.find(`sha256:${sha256}`)) {
        candidates.push({
          source: displayPath(store.bundlePath(entry.id), io.cwd),
          json: (await store.read(entry.id)).toString('utf8'),
        });
      }
    }
    if (candidates.length > 0)
      io.stderr(`vouch verify: checking ${candidates.length} bundle(s) about sha256:${sha256}\n`);
    const verdict = verifyArtifact({
      sha256,
      candidates,
      trust,
      policy: requireEvidence(types),
      artifactBytes: file ? () => readFileSync(file) : undefined,
    });
    if (values.json) printJson(io, verdict);
    else printVerdict(io, verdict, target);
    return verdict.ok ? 0 : 1;
  },
};

function digestOf(target: string): string {
  const { algorithm, hex } = parseDigest(target);
  if (algorithm !== 'sha256') throw usage('verify', 'only sha256:HEX digests can be verified');
  return hex;
}

function cacheDir(io: Io): string {
  return join(io.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'vouch', 'tuf');
}

function describeSigner(s: Signer): string {
  switch (s.kind) {
    case 'key':
      return `key ${s.keyid.slice(0, 16)}…`;
    case 'certificate':
      return `${s.subject} (${s.issuer})`;
  }
}

function printVerdict(io: Io, v: ArtifactVerdict, target: string): void {
  io.stdout(`${target}  ${v.subject}\n`);
  if (v.bundles.length === 0) io.stdout('  no bundles found\n');
  for (const b of v.bundles) {
    if (b.ok) {
      const who = b.signers.map(describeSigner).join(', ');
      io.stdout(
        `  ✓ ${b.statement?.predicateType ?? 'message signature'}  signed by ${who}\n    ${b.source}\n`,
      );
    } else {
      const failed = b.checks.filter((c) => !c.ok);
      io.stdout(`  ✗ ${b.source}\n`);
      for (const c of failed) io.stdout(`    ${c.name}: ${c.detail}\n`);
    }
  }
  for (const r of v.policy.reasons) io.stdout(`  ${r.ok ? '✓' : '✗'} ${r.detail}\n`);
  const n = v.bundles.filter((b) => b.ok).length;
  io.stdout(
    `${v.ok ? 'VERIFIED' : 'NOT VERIFIED'}: ${n} of ${v.bundles.length} bundle(s) verified; policy ${v.policy.name} ${v.ok ? 'passed' : 'failed'}\n`,
  );
}
