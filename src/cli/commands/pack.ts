import { readFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { writeFileAtomic } from '../../core/atomic.ts';
import { VouchError } from '../../core/errors.ts';
import { readTextFile } from '../../core/json.ts';
import { packPolicyDigest, readPack, writePack } from '../../oci/index.ts';
import { loadPolicy } from '../../policy/index.ts';
import { loadTrustedRoot } from '../../sign/index.ts';
import { deprecatedAlias, parse, usage } from '../args.ts';
import { printJson } from '../io.ts';
import { gatherForPack, REGISTRY_HELP, REGISTRY_OPTIONS } from '../oci.ts';
import type { Command } from './command.ts';

const HELP = `Usage: vouch pack <file | sha256:HEX | oci://HOST/REPO[:TAG|@sha256:HEX]> -o FILE [options]

Writes one file holding everything needed to verify the artifact offline:
every bundle about its digest (from the registry for an oci:// target, else
from the store and --bundle), the trusted root and the policy (with the key
and trusted-root files it names). \`vouch verify <artifact> --pack FILE\` then
decides with no network, with your own --policy or trust flags, or with the
pack's policy when pinned by --pack-policy-sha256 (printed here: a pack is not
signed). The pack is JSON, written deterministically (see docs/cli/pack.md).

  -o, --output FILE    the pack to write (required)
  --out FILE           deprecated: the old spelling of -o/--output (warns)
  --policy FILE        include this policy (and the key files it names)
  --trusted-root FILE  include this Sigstore trusted_root.json
  --bundle FILE        also include this bundle (repeatable)
  --store DIR          evidence store to read for file and digest targets (default: .vouch)
  --no-store           do not read the store
  --json               print a JSON summary on stdout
${REGISTRY_HELP}

Exit codes: 0 written, 2 bad input or registry error.`;

const MAX_POLICY_FILE = 1024 * 1024;

export const packCommand: Command = {
  name: 'pack',
  help: HELP,
  async run(argv, io) {
    const { values, positionals } = parse('pack', argv, {
      output: { type: 'string', short: 'o' },
      out: { type: 'string' },
      policy: { type: 'string' },
      'trusted-root': { type: 'string' },
      bundle: { type: 'string', multiple: true },
      store: { type: 'string', default: '.vouch' },
      'no-store': { type: 'boolean' },
      ...REGISTRY_OPTIONS,
    });
    if (values.help) {
      io.stdout(`${HELP}\n`);
      return 0;
    }
    if (positionals.length !== 1)
      throw usage('pack', 'give exactly one artifact, digest or oci:// reference');
    const output = deprecatedAlias(
      'pack',
      io,
      { name: '-o/--output', value: values.output },
      { name: '--out', value: values.out, why: '--out is the signed bundle in other verbs' },
    );
    if (output === undefined) throw usage('pack', '-o/--output FILE is required');
    const target = positionals[0] as string;
    let trustedRoot: string | undefined;
    if (values['trusted-root'] !== undefined) {
      const path = resolve(io.cwd, values['trusted-root']);
      await loadTrustedRoot(path);
      trustedRoot = await readTextFile(path);
    }
    let policy: { name: string; text: string; files: Record<string, string> } | undefined;
    if (values.policy !== undefined) {
      const path = resolve(io.cwd, values.policy);
      const parsed = await loadPolicy(path);
      if (!parsed.ok) {
        const { reportPolicyProblems } = await import('./verify.ts');
        return reportPolicyProblems(io, values.policy, parsed.problems, values.json);
      }
      const text = await readTextFile(path, MAX_POLICY_FILE);
      const root = dirname(path);
      const files = await policyFiles(text, root, root, values.policy);
      // Every file the policy extends travels too (its pin is over its exact
      // bytes), with the key and trusted-root files it names in turn.
      for (const base of parsed.policy.extends ?? []) {
        const baseText = await readTextFile(resolve(root, base.file), MAX_POLICY_FILE);
        files[base.file] = baseText;
        Object.assign(
          files,
          await policyFiles(baseText, dirname(resolve(root, base.file)), root, base.file),
        );
      }
      policy = { name: basename(path), text, files };
    }
    const { sha256, name, candidates } = await gatherForPack(target, values, io);
    const bytes = writePack({
      subject: { name, sha256 },
      bundles: candidates.map((c) => ({
        source: c.source,
        text: typeof c.json === 'string' ? c.json : JSON.stringify(c.json),
      })),
      trustedRoot,
      policy,
    });
    await writeFileAtomic(resolve(io.cwd, output), bytes);
    // The pin of the policy as written (read back, so it is exactly what verify will check).
    const written = await readPack(resolve(io.cwd, output), output);
    const pin = written.policy ? packPolicyDigest(written.policy) : null;
    // `out` is the JSON key scripts already read; it stays.
    const summary = {
      out: output,
      subject: `sha256:${sha256}`,
      name,
      bundles: candidates.length,
      policy: policy?.name ?? null,
      trustedRoot: trustedRoot !== undefined,
      packPolicySha256: pin,
    };
    if (values.json) printJson(io, summary);
    else {
      io.stdout(
        `wrote ${output}: ${candidates.length} bundle(s) about sha256:${sha256}${policy ? `, policy ${policy.name}` : ''}${trustedRoot ? ', trusted root' : ''}\n`,
      );
      if (pin)
        io.stdout(
          `to decide with its policy: vouch verify … --pack ${output} --pack-policy-sha256 ${pin}\n`,
        );
    }
    return 0;
  },
};

/**
 * The key and trusted-root files a policy file in `dir` names, keyed by
 * their path relative to `root` (the top-level policy's directory). A path
 * outside `root` cannot travel in a pack.
 */
async function policyFiles(
  text: string,
  dir: string,
  root: string,
  source: string,
): Promise<Record<string, string>> {
  const doc = parseYaml(text) as {
    trust?: { trustedRoot?: unknown; signers?: Array<{ key?: unknown }> };
  };
  const names: string[] = [];
  if (typeof doc?.trust?.trustedRoot === 'string') names.push(doc.trust.trustedRoot);
  for (const s of doc?.trust?.signers ?? [])
    if (typeof s?.key === 'string' && !s.key.includes('-----BEGIN')) names.push(s.key);
  const files: Record<string, string> = {};
  for (const name of names) {
    const rel = relative(root, resolve(dir, name)).split(sep).join('/');
    if (rel.startsWith('..') || isAbsolute(rel))
      throw new VouchError(
        'USAGE',
        `the policy names ${name}, outside its directory: a pack carries only files beside the policy (or give the key inline)`,
        {
          file: source,
        },
      );
    files[rel] = (await readFile(resolve(root, rel))).toString('utf8');
  }
  return files;
}
