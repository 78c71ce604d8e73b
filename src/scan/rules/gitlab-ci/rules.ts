/**
 * GitLab CI basics: unpinned images, downloads piped into shells, secrets
 * written into `variables:`, CI_JOB_TOKEN printed or written out, and remote
 * includes without an integrity hash.
 */
import type { Finding } from '../../finding.ts';
import { findingAt, type Rule } from '../../rule.ts';
import { redact } from '../../secrets/scanner.ts';
import { pinning } from '../image.ts';
import { isLiteralSecretValue, isSecretName, looksLikeKey } from '../secrets-names.ts';
import { fetchesIntoShell, pipelines, stripPrefix, words } from '../shell.ts';
import { entries, entry, get, items, str, type YNode } from '../yaml.ts';
import type { GitlabCi } from './parse.ts';

type LRule = Rule<GitlabCi>;

/** The places config lives: global keys, `default:` and every job (templates too). */
function sections(ci: GitlabCi): { name: string; node: YNode }[] {
  const out: { name: string; node: YNode }[] = [{ name: 'global', node: ci.root }];
  const d = get(ci.root, 'default');
  if (d) out.push({ name: 'default', node: d });
  for (const j of ci.jobs) out.push({ name: `job ${j.key}`, node: j.value });
  return out;
}

/** Script lines (nested lists flattened) of a section. */
function scriptLines(node: YNode): YNode[] {
  const out: YNode[] = [];
  const walk = (n: YNode | undefined) => {
    if (!n) return;
    if (n.kind === 'seq') for (const i of n.items) walk(i);
    else if (n.kind === 'scalar') out.push(n);
  };
  for (const k of ['before_script', 'script', 'after_script']) walk(get(node, k));
  return out;
}

export const imageNotPinned: LRule = {
  id: 'gitlab/image-not-pinned',
  severity: 'medium',
  title: 'Job image or service not pinned by digest',
  description:
    "The runner pulls `image:` and `services:` by tag each time; a moved tag changes what runs with the job's CI_JOB_TOKEN and variables. Pin `name:tag@sha256:…` (latest or untagged: medium; tag only: low).",
  check(ci, ctx) {
    const out: Finding[] = [];
    const check = (n: YNode | undefined, what: string) => {
      const img = str(n) ?? str(get(n, 'name'));
      if (!n || !img || img.includes('$')) return;
      const p = pinning(img);
      if (p === 'digest') return;
      out.push(
        findingAt(
          this,
          ctx,
          { line: n.line },
          `${what} ${img} ${p === 'latest' ? 'uses latest or no tag' : 'is not pinned by digest'}`,
          { severity: p === 'latest' ? 'medium' : 'low' },
        ),
      );
    };
    for (const s of sections(ci)) {
      check(get(s.node, 'image'), `${s.name}: image`);
      for (const sv of items(get(s.node, 'services'))) check(sv, `${s.name}: service`);
    }
    return out;
  },
};

export const curlPipeShell: LRule = {
  id: 'gitlab/curl-pipe-shell',
  severity: 'high',
  title: 'Downloaded script piped into a shell',
  description:
    "`curl … | sh` (PowerShell: `iwr … | iex`) in a job runs unverified code with the job's token and variables. Download to a file, verify a pinned checksum or signature, then run it — or bake the tool into a pinned image.",
  check(ci, ctx) {
    const out: Finding[] = [];
    for (const s of sections(ci))
      for (const l of scriptLines(s.node)) {
        const hit = fetchesIntoShell(str(l) ?? '');
        if (hit)
          out.push(findingAt(this, ctx, { line: l.line }, `${s.name}: ${hit.slice(0, 120)}`));
      }
    return out;
  },
};

export const secretInVariables: LRule = {
  id: 'gitlab/secret-in-variables',
  severity: 'high',
  title: 'Secret written in variables:',
  description:
    'Values under `variables:` are committed to the repository and visible to everyone who can read it. Store credentials as masked, protected CI/CD variables in the project settings (or an external secret manager) and reference them by name.',
  check(ci, ctx) {
    const out: Finding[] = [];
    for (const s of sections(ci))
      for (const v of entries(get(s.node, 'variables'))) {
        const val = str(v.value) ?? str(get(v.value, 'value'));
        if (val === undefined) continue;
        if ((isSecretName(v.key) && isLiteralSecretValue(val)) || looksLikeKey(val))
          out.push(
            findingAt(
              this,
              ctx,
              { line: v.keyLine },
              `${s.name}: variable ${v.key} holds a secret (${redact(val)})`,
              { secrets: [val] },
            ),
          );
      }
    return out;
  },
};

const TOKEN = /\$\{?(?:CI_JOB_TOKEN|CI_REGISTRY_PASSWORD|CI_DEPLOY_PASSWORD)\b/;

export const jobTokenExposure: LRule = {
  id: 'gitlab/job-token-exposure',
  severity: 'medium',
  title: 'CI_JOB_TOKEN printed or written to a file',
  description:
    'Printing CI_JOB_TOKEN (or the registry password) puts it in the job log; writing it into a file can ship it in artifacts or caches. Pass it on stdin (`echo "$CI_JOB_TOKEN" | docker login --password-stdin …`) or in a header, never to the log or the workspace.',
  check(ci, ctx) {
    const out: Finding[] = [];
    for (const s of sections(ci))
      for (const l of scriptLines(s.node)) {
        const text = str(l) ?? '';
        if (!TOKEN.test(text)) continue;
        for (const p of pipelines(text)) {
          const first = p[0] ?? '';
          if (!TOKEN.test(first)) continue;
          const w = stripPrefix(words(first));
          if (!/^(?:echo|printf|cat)$/.test(w[0] ?? '')) continue;
          const piped =
            p.length > 1 && p.slice(1).some((x) => /--password-stdin|\bbase64\b|-u\b/.test(x));
          if (piped && !/>\s*\S/.test(first)) continue;
          out.push(
            findingAt(
              this,
              ctx,
              { line: l.line },
              `${s.name}: ${/>\s*\S/.test(first) ? 'writes' : 'prints'} a job token: ${first.slice(0, 100)}`,
            ),
          );
          break;
        }
      }
    return out;
  },
};

export const remoteIncludeWithoutIntegrity: LRule = {
  id: 'gitlab/remote-include-without-integrity',
  severity: 'medium',
  title: 'include: remote without integrity',
  description:
    'A remote include is fetched on every pipeline from a URL you do not control; whoever controls it controls your pipeline. Add `integrity: sha256-…` (GitLab 17.9+) or include a pinned project ref instead.',
  check(ci, ctx) {
    const out: Finding[] = [];
    const inc = get(ci.root, 'include');
    const list = inc?.kind === 'seq' ? inc.items : inc ? [inc] : [];
    for (const i of list) {
      const url = i.kind === 'scalar' ? str(i) : str(get(i, 'remote'));
      if (!url || !/^https?:\/\//.test(url)) continue;
      if (i.kind === 'map' && entry(i, 'integrity')) continue;
      out.push(findingAt(this, ctx, { line: i.line }, `include ${url} has no integrity hash`));
    }
    return out;
  },
};

export const GITLAB_CI_RULES: readonly LRule[] = [
  imageNotPinned,
  curlPipeShell,
  secretInVariables,
  jobTokenExposure,
  remoteIncludeWithoutIntegrity,
];
