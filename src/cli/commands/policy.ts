import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { writeFileAtomic } from '../../core/atomic.ts';
import { readTextFile } from '../../core/json.ts';
import {
  evaluatePolicy,
  explainVerdict,
  loadPolicy,
  runFixtures,
  type StarterKey,
  starterPolicy,
} from '../../policy/index.ts';
import { loadVerificationKey } from '../../sign/index.ts';
import { DirectoryStore } from '../../store/index.ts';
import { deprecatedAlias, parse, subcommand, usage } from '../args.ts';
import { displayPath, printJson } from '../io.ts';
import type { Command } from './command.ts';
import { gatherCandidates, reportPolicyProblems, resolveTarget } from './verify.ts';

const HELP = `Usage: vouch policy <test | explain | init> [options]

  vouch policy test P.yaml --fixtures DIR
      Runs the policy against every fixture case DIR/<case>/ (a case.yaml with
      expect: allow|deny and subject: sha256:HEX, optional now: RFC 3339, and the
      case's *.sigstore.json bundles). Exit 0 when every expectation holds, 1 if not.

  vouch policy explain P.yaml <file | sha256:HEX> [--bundle FILE]... [--store DIR | --no-store]
      Prints the evaluation tree: each bundle kept or dropped and why, each rule
      with the evidence it used and every reason. Exit 0 allow, 1 deny.

  vouch policy init [--store DIR] [--key PUB]... [-o FILE]
      Writes a starter policy from evidence already in the store: a signer per
      identity seen (keys only when a --key file matches the bundle's key id) and a
      rule per predicate type seen. Review it: the evidence is not verified here.
    -o, --output FILE     write the policy to FILE (atomically) instead of stdout
    --out FILE            deprecated: the old spelling of -o/--output (warns)

A malformed policy is exit 2 with every problem as file:line:col: /field/path: message.
Every subcommand takes --json.`;

export const policyCommand: Command = {
  name: 'policy',
  help: HELP,
  async run(argv, io) {
    const s = subcommand('policy', argv, ['test', 'explain', 'init']);
    if (s === 'help') {
      io.stdout(`${HELP}\n`);
      return 0;
    }
    const { sub, rest } = s;
    switch (sub) {
      case 'test': {
        const { values, positionals } = parse('policy test', rest, {
          fixtures: { type: 'string' },
        });
        if (values.help) return help(io);
        if (positionals.length !== 1 || values.fixtures === undefined)
          throw usage('policy test', 'give the policy file and --fixtures DIR');
        const file = positionals[0] as string;
        const parsed = await loadPolicy(resolve(io.cwd, file));
        if (!parsed.ok) return reportPolicyProblems(io, file, parsed.problems, values.json);
        const results = await runFixtures(parsed.policy, resolve(io.cwd, values.fixtures));
        const failed = results.filter((r) => !r.ok);
        if (values.json) {
          printJson(io, {
            ok: failed.length === 0,
            cases: results.map((r) => ({
              name: r.name,
              expect: r.expect,
              got: r.got,
              ok: r.ok,
              verdict: r.verdict,
            })),
          });
        } else {
          for (const r of results) {
            io.stdout(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name}: expected ${r.expect}, got ${r.got}\n`);
            if (!r.ok) io.stdout(indent(explainVerdict(r.verdict), '     '));
          }
          io.stdout(`${results.length - failed.length} of ${results.length} case(s) as expected\n`);
        }
        return failed.length === 0 ? 0 : 1;
      }
      case 'explain': {
        const { values, positionals } = parse('policy explain', rest, {
          bundle: { type: 'string', multiple: true },
          store: { type: 'string', default: '.vouch' },
          'no-store': { type: 'boolean' },
        });
        if (values.help) return help(io);
        if (positionals.length !== 2)
          throw usage('policy explain', 'give the policy file and one file or sha256:HEX');
        const [file, target] = positionals as [string, string];
        const parsed = await loadPolicy(resolve(io.cwd, file));
        if (!parsed.ok) return reportPolicyProblems(io, file, parsed.problems, values.json);
        const { file: artifact, sha256 } = await resolveTarget(
          'policy explain',
          target,
          io,
          parsed.policy.requireDigest,
        );
        const bundles = await gatherCandidates(sha256, values, io);
        const verdict = evaluatePolicy(parsed.policy, {
          subjectDigest: `sha256:${sha256}`,
          bundles,
          artifactBytes: artifact ? () => readFileSync(artifact) : undefined,
        });
        if (values.json) printJson(io, verdict);
        else io.stdout(explainVerdict(verdict));
        return verdict.ok ? 0 : 1;
      }
      case 'init': {
        const { values, positionals } = parse('policy init', rest, {
          store: { type: 'string', default: '.vouch' },
          key: { type: 'string', multiple: true },
          output: { type: 'string', short: 'o' },
          out: { type: 'string' },
        });
        if (values.help) return help(io);
        if (positionals.length !== 0) throw usage('policy init', 'takes no positional arguments');
        const output = deprecatedAlias(
          'policy init',
          io,
          { name: '-o/--output', value: values.output },
          { name: '--out', value: values.out, why: '--out is the signed bundle in other verbs' },
        );
        const keys: StarterKey[] = [];
        for (const k of values.key ?? []) {
          keys.push({
            path: k,
            key: loadVerificationKey(await readTextFile(resolve(io.cwd, k), 1024 * 1024), k),
          });
        }
        const store = new DirectoryStore(resolve(io.cwd, values.store));
        const bundles = [];
        for (const entry of await store.list()) {
          bundles.push({
            source: displayPath(store.bundlePath(entry.id), io.cwd),
            json: (await readFile(store.bundlePath(entry.id))).toString('utf8'),
          });
        }
        const text = starterPolicy(bundles, keys);
        if (output !== undefined) {
          await writeFileAtomic(resolve(io.cwd, output), Buffer.from(text, 'utf8'));
          // `out` is the JSON key scripts already read; it stays.
          if (values.json) printJson(io, { out: output, bundles: bundles.length });
          else io.stderr(`vouch policy init: wrote ${output} from ${bundles.length} bundle(s)\n`);
        } else if (values.json) printJson(io, { policy: text, bundles: bundles.length });
        else io.stdout(text);
        return 0;
      }
    }
  },
};

function help(io: { stdout: (t: string) => void }): number {
  io.stdout(`${HELP}\n`);
  return 0;
}

function indent(text: string, pad: string): string {
  return text
    .split('\n')
    .map((l) => (l ? `${pad}${l}` : l))
    .join('\n');
}
