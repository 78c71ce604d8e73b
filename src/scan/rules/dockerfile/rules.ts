/**
 * Dockerfile rules. Each rule is one unit: id, severity, the reason and the
 * fix, and a check over the parsed Dockerfile. Every risk is reported once,
 * at the line of the instruction that carries it. `ONBUILD` triggers are
 * checked like the instruction they wrap, reported at the ONBUILD line and
 * named `ONBUILD <keyword>` in the message: they run in every image built
 * FROM this one.
 */
import type { Finding } from '../../finding.ts';
import { findingAt, type Rule, type RuleContext } from '../../rule.ts';
import { redact } from '../../secrets/scanner.ts';
import { pinning } from '../image.ts';
import { isLiteralSecretValue, isSecretName, looksLikeKey } from '../secrets-names.ts';
import { commands, fetchesIntoShell, stripPrefix, words } from '../shell.ts';
import {
  type Dockerfile,
  envPairs,
  type Instruction,
  label,
  runScript,
  type Stage,
} from './parse.ts';

type DRule = Rule<Dockerfile>;

/** A message about a RUN of this image, or of an ONBUILD trigger (`ONBUILD RUN: …`). */
function runMessage(ins: Instruction, msg: string): string {
  return ins.onbuild ? `${label(ins)}: ${msg}` : msg;
}

/** A FROM that names an earlier stage (or scratch) pulls no image. */
function pullsImage(doc: Dockerfile, st: Stage): boolean {
  const img = (st.resolvedImage ?? st.image).toLowerCase();
  if (img === 'scratch') return false;
  return !doc.stages.some((s) => s.index < st.index && s.name === img);
}

/** The images pulled by FROM (with build args resolved) whose pinning is `how`, at their FROM line. */
function baseImagesPinnedBy(
  doc: Dockerfile,
  how: ReturnType<typeof pinning>,
): { line: number; image: string }[] {
  const out: { line: number; image: string }[] = [];
  for (const st of doc.stages) {
    if (!pullsImage(doc, st) || st.resolvedImage === undefined) continue;
    if (pinning(st.resolvedImage) === how)
      out.push({ line: st.from.line, image: st.resolvedImage });
  }
  return out;
}

export const latestBaseImage: DRule = {
  id: 'docker/latest-base-image',
  severity: 'medium',
  title: 'Base image uses the latest tag or no tag',
  description:
    'FROM without a tag, or with `latest`, builds on whatever the registry serves that day: builds are not reproducible and a compromised or broken upload is picked up silently. Pin a version tag and its digest: `FROM node:22.11-bookworm@sha256:…`.',
  check(doc, ctx) {
    return baseImagesPinnedBy(doc, 'latest').map(({ line, image }) =>
      findingAt(this, ctx, { line }, `base image ${image} is not pinned to a version or digest`),
    );
  },
};

export const unpinnedBaseImage: DRule = {
  id: 'docker/unpinned-base-image',
  severity: 'medium',
  title: 'Base image not pinned by digest',
  description:
    'A tag is mutable: the registry owner (or whoever takes over the account) can point it at different content. Pin the digest next to the tag, `FROM python:3.12-slim@sha256:…`, and let a bot (Renovate, Dependabot) update it.',
  check(doc, ctx) {
    return baseImagesPinnedBy(doc, 'tag').map(({ line, image }) =>
      findingAt(this, ctx, { line }, `base image ${image} is pinned by tag, not by digest`),
    );
  },
};

export const rootUser: DRule = {
  id: 'docker/root-user',
  severity: 'high',
  title: 'Container runs as root',
  description:
    'Without a USER instruction in the final stage (or with USER root / 0) the container process runs as root, so an escape from the application is root in the container and closer to the host. Add a non-root user and `USER app` (or a numeric UID) after the last step that needs root.',
  check(doc, ctx) {
    const last = doc.stages[doc.stages.length - 1];
    if (!last) return [];
    // An ONBUILD USER applies to the images built from this one, not to this one.
    const users = last.instructions.filter((i) => i.keyword === 'USER' && !i.onbuild);
    const u = users[users.length - 1];
    if (!u)
      return [
        findingAt(
          this,
          ctx,
          { line: last.from.line },
          'the final stage sets no USER, so it runs as root (unless the base image sets one)',
          { severity: 'medium' },
        ),
      ];
    const name = (u.args.split(/\s+/)[0] ?? '').split(':')[0] ?? '';
    if (name === 'root' || name === '0')
      return [findingAt(this, ctx, { line: u.line }, `the final stage runs as ${u.args.trim()}`)];
    return [];
  },
};

export const addRemoteWithoutChecksum: DRule = {
  id: 'docker/add-remote-without-checksum',
  severity: 'medium',
  title: 'ADD of a remote URL without --checksum',
  description:
    'ADD downloads the URL at build time and uses whatever it receives. Pin the content: `ADD --checksum=sha256:… https://…` (BuildKit), or download with curl and verify with `sha256sum -c`.',
  check(doc, ctx) {
    const out: Finding[] = [];
    for (const ins of doc.instructions) {
      if (ins.keyword !== 'ADD' || ins.flags.checksum) continue;
      const srcs = (ins.json ?? ins.args.split(/\s+/)).slice(0, -1);
      const url = srcs.find((s) => /^(?:https?|ftp):\/\//i.test(s));
      if (url)
        out.push(
          findingAt(
            this,
            ctx,
            { line: ins.line },
            `${label(ins)} ${url} is not verified by a checksum`,
          ),
        );
    }
    return out;
  },
};

export const curlPipeShell: DRule = {
  id: 'docker/curl-pipe-shell',
  severity: 'high',
  title: 'Downloaded script piped into a shell',
  description:
    '`curl … | sh` — or in PowerShell `iwr … | iex`, `iex ((New-Object Net.WebClient).DownloadString(…))` — runs whatever the server (or anyone on the path, or whoever controls the domain later) returns, unverified, as part of the image; in an `ONBUILD` trigger, as part of every image built FROM this one. Download to a file, verify a pinned checksum or signature, then run it.',
  check(doc, ctx) {
    const out: Finding[] = [];
    for (const ins of doc.instructions) {
      if (ins.keyword !== 'RUN') continue;
      const hit = fetchesIntoShell(runScript(ins));
      if (hit)
        out.push(
          findingAt(
            this,
            ctx,
            { line: ins.line, endLine: ins.endLine },
            `${label(ins)} pipes a download into a shell: ${hit.slice(0, 120)}`,
          ),
        );
    }
    return out;
  },
};

export const secretInEnvArg: DRule = {
  id: 'docker/secret-in-env-arg',
  severity: 'high',
  title: 'Secret in ENV or ARG',
  description:
    'ENV values are stored in the image config and ARG values in the build history (`docker history`): anyone who can pull the image can read them. Pass secrets with `RUN --mount=type=secret,id=…` (BuildKit) or at run time, never as ENV/ARG.',
  check(doc, ctx) {
    const out: Finding[] = [];
    for (const ins of doc.instructions) {
      if (ins.keyword !== 'ENV' && ins.keyword !== 'ARG') continue;
      // Each variable is reported at its own line (`ENV A=… \` then `B=…` on the next), from
      // where the previous one was found on, with its value masked in the snippet.
      let from = ins.line;
      const report = (k: string, v: string, message: string, severity?: 'medium') => {
        from = keyLine(ctx.lines, ins, k, from);
        const parts = v.split(/\s+/).filter((p) => p.length >= 4);
        out.push(
          findingAt(this, ctx, { line: from }, message, {
            secrets: [v, ...parts],
            ...(severity ? { severity } : {}),
          }),
        );
      };
      const pairs =
        ins.keyword === 'ENV'
          ? envPairs(ins.args)
          : [...ins.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)(?:=(\S*))?/g)].map(
              (m) => [m[1] as string, (m[2] ?? '').replace(/^["']|["']$/g, '')] as const,
            );
      for (const [k, v] of pairs) {
        if ((isSecretName(k) && isLiteralSecretValue(v)) || looksLikeKey(v))
          report(
            k,
            v,
            ins.keyword === 'ENV'
              ? `${label(ins)} ${k} holds a secret (${redact(v)})`
              : `${label(ins)} ${k} has a secret default (${redact(v)})`,
          );
        else if (ins.keyword === 'ARG' && isSecretName(k) && v === '')
          report(
            k,
            v,
            `${label(ins)} ${k} takes a secret at build time; its value is kept in the image history`,
            'medium',
          );
      }
    }
    return out;
  },
};

/** The line of `ins` (from line `from` on) where variable `key` is set; `from` when not found. */
function keyLine(lines: readonly string[], ins: Instruction, key: string, from: number): number {
  const re = new RegExp(`(?:^|\\s)${key.replace(/[.]/g, '\\.')}(?:[=\\s]|$)`);
  for (let l = from; l <= ins.endLine; l++) if (re.test(lines[l - 1] ?? '')) return l;
  return from;
}

/** The package-manager invocations of RUN instructions, with their words. */
function installs(
  doc: Dockerfile,
  tool: RegExp,
  sub: RegExp,
): { ins: Instruction; w: string[]; script: string }[] {
  const out: { ins: Instruction; w: string[]; script: string }[] = [];
  for (const ins of doc.instructions) {
    if (ins.keyword !== 'RUN') continue;
    const script = runScript(ins);
    for (const c of commands(script)) {
      const w = stripPrefix(words(c));
      if (tool.test(w[0] ?? '') && w.slice(1).some((x) => sub.test(x)))
        out.push({ ins, w, script });
    }
  }
  return out;
}

/**
 * One finding per RUN that holds a flagged install, over the RUN's lines: several
 * installs in one RUN are one place to fix. Filter before calling, so that a RUN
 * with one clean and one flagged install is still found.
 */
function runFindings(
  rule: DRule,
  ctx: RuleContext,
  flagged: { ins: Instruction }[],
  msg: string,
): Finding[] {
  const seen = new Set<Instruction>();
  const out: Finding[] = [];
  for (const { ins } of flagged) {
    if (seen.has(ins)) continue;
    seen.add(ins);
    out.push(findingAt(rule, ctx, { line: ins.line, endLine: ins.endLine }, runMessage(ins, msg)));
  }
  return out;
}

function hasCacheMount(ins: Instruction, path: RegExp): boolean {
  return (ins.flags.mount ?? '')
    .split(/,(?=type=)/)
    .some((m) => /type=cache/.test(m) && path.test(m));
}

export const aptNoInstallRecommends: DRule = {
  id: 'docker/apt-install-recommends',
  severity: 'low',
  title: 'apt-get install without --no-install-recommends',
  description:
    'Recommended packages are pulled in silently, growing the image and its attack surface with software nobody asked for. Add `--no-install-recommends`.',
  check(doc, ctx) {
    return runFindings(
      this,
      ctx,
      installs(doc, /^apt(?:-get)?$/, /^install$/).filter(
        ({ w }) =>
          !w.some(
            (x) =>
              x === '--no-install-recommends' || /APT::Install-Recommends=(?:false|0)/i.test(x),
          ),
      ),
      'apt-get install without --no-install-recommends',
    );
  },
};

export const aptListsNotCleaned: DRule = {
  id: 'docker/apt-lists-not-cleaned',
  severity: 'low',
  title: 'apt lists left in the layer',
  description:
    'apt-get update downloads package lists into /var/lib/apt/lists; left in the layer they bloat the image and go stale. End the same RUN with `rm -rf /var/lib/apt/lists/*`, or use a BuildKit cache mount for /var/lib/apt.',
  check(doc, ctx) {
    // The test reads only the RUN (its script and mounts), so every install in it agrees.
    return runFindings(
      this,
      ctx,
      installs(doc, /^apt(?:-get)?$/, /^install$/).filter(
        ({ ins, script }) =>
          !/\/var\/lib\/apt\/lists/.test(script) &&
          !hasCacheMount(ins, /\/var\/(?:lib|cache)\/apt/),
      ),
      'apt-get install without removing /var/lib/apt/lists in the same RUN',
    );
  },
};

export const apkNoCache: DRule = {
  id: 'docker/apk-no-cache',
  severity: 'low',
  title: 'apk add without --no-cache',
  description:
    'Without --no-cache, apk keeps its index in /var/cache/apk in the layer. Use `apk add --no-cache …` (or a BuildKit cache mount).',
  check(doc, ctx) {
    // Filter before keeping one per RUN: `apk add --no-cache a && apk add b` still has one to fix.
    return runFindings(
      this,
      ctx,
      installs(doc, /^apk$/, /^add$/).filter(
        ({ ins, w, script }) =>
          !w.includes('--no-cache') &&
          !/rm\s+-[rf]+\s+\/var\/cache\/apk/.test(script) &&
          !hasCacheMount(ins, /\/var\/cache\/apk/),
      ),
      'apk add without --no-cache',
    );
  },
};

export const pipNoCacheDir: DRule = {
  id: 'docker/pip-no-cache-dir',
  severity: 'low',
  title: 'pip install without --no-cache-dir',
  description:
    'pip keeps downloaded wheels in ~/.cache/pip inside the layer. Use `pip install --no-cache-dir …`, set `ENV PIP_NO_CACHE_DIR=1`, or use a BuildKit cache mount.',
  check(doc, ctx) {
    // This image's ENV reaches its own RUNs and its triggers; an ONBUILD ENV only the triggers.
    const env = doc.instructions.filter(
      (i) => i.keyword === 'ENV' && /PIP_NO_CACHE_DIR/.test(i.args),
    );
    const envOff = (ins: Instruction) => env.some((e) => ins.onbuild || !e.onbuild);
    return runFindings(
      this,
      ctx,
      installs(doc, /^(?:pip[0-9.]*|python[0-9.]*)$/, /^install$/).filter(
        ({ ins, w }) =>
          !envOff(ins) &&
          (/^pip/.test(w[0] ?? '') || (w[1] === '-m' && /^pip/.test(w[2] ?? ''))) &&
          !w.includes('--no-cache-dir') &&
          !hasCacheMount(ins, /\.cache\/pip/),
      ),
      'pip install without --no-cache-dir',
    );
  },
};

/** Package arguments of an install command (words after the subcommand that are not options). */
function packageArgs(w: string[], sub: string): string[] {
  const i = w.indexOf(sub);
  const out: string[] = [];
  for (let j = i + 1; j < w.length; j++) {
    const x = w[j] as string;
    if (x.startsWith('-')) {
      if (
        /^-(?:t|o|r|c|e|X|-target|-requirement|-constraint|-repository|-index-url|-extra-index-url)$/.test(
          x,
        )
      )
        j++;
      continue;
    }
    out.push(x);
  }
  return out;
}

export const unpinnedPackages: DRule = {
  id: 'docker/unpinned-packages',
  severity: 'low',
  title: 'Packages installed without a version',
  description:
    'apt-get/apk/pip installs without versions take whatever the index serves at build time, so two builds of one Dockerfile differ. Pin versions (`curl=8.5.0-2`, `curl=8.5.0-r0`, `requests==2.32.3`) or install from a lockfile (`pip install -r requirements.txt` with hashes).',
  check(doc, ctx) {
    const out: Finding[] = [];
    const byIns = new Map<Instruction, string[]>();
    const add = (ins: Instruction, p: string) => byIns.set(ins, [...(byIns.get(ins) ?? []), p]);
    for (const { ins, w } of installs(doc, /^apt(?:-get)?$/, /^install$/))
      for (const p of packageArgs(w, 'install'))
        if (!p.includes('=') && !p.includes('$') && !p.endsWith('.deb')) add(ins, p);
    for (const { ins, w } of installs(doc, /^apk$/, /^add$/))
      for (const p of packageArgs(w, 'add'))
        if (!p.includes('=') && !p.includes('$') && !p.startsWith('.')) add(ins, p);
    for (const { ins, w } of installs(doc, /^pip[0-9.]*$/, /^install$/))
      for (const p of packageArgs(w, 'install'))
        if (
          !/[=<>~@]/.test(p) &&
          !p.includes('$') &&
          !/^[./]|\.(?:whl|tar\.gz|zip)$|^git\+|^https?:/.test(p) &&
          p !== 'pip' &&
          p !== 'setuptools' &&
          p !== 'wheel'
        )
          add(ins, p);
    for (const [ins, pkgs] of byIns)
      out.push(
        findingAt(
          this,
          ctx,
          { line: ins.line, endLine: ins.endLine },
          runMessage(
            ins,
            `packages without a pinned version: ${[...new Set(pkgs)].slice(0, 8).join(', ')}${pkgs.length > 8 ? ', …' : ''}`,
          ),
        ),
      );
    return out;
  },
};

export const missingHealthcheck: DRule = {
  id: 'docker/missing-healthcheck',
  severity: 'info',
  title: 'No HEALTHCHECK',
  description:
    'Without HEALTHCHECK, Docker and Swarm cannot tell a hung container from a healthy one (Kubernetes uses its own probes instead). Add `HEALTHCHECK CMD …`, or `HEALTHCHECK NONE` to say it is deliberate.',
  check(doc, ctx) {
    const last = doc.stages[doc.stages.length - 1];
    if (!last || last.instructions.some((i) => i.keyword === 'HEALTHCHECK' && !i.onbuild))
      return [];
    return [findingAt(this, ctx, { line: last.from.line }, 'the final stage has no HEALTHCHECK')];
  },
};

export const badStageReference: DRule = {
  id: 'docker/bad-stage-reference',
  severity: 'high',
  title: 'COPY --from / FROM names a stage that is not defined before it',
  description:
    'A name that is not an earlier stage is read as an image reference: `COPY --from=builder` before (or without) `FROM … AS builder` pulls an image called `builder` from Docker Hub — a dependency-confusion hole — and a numeric index must be an earlier stage. Define the stage first, or fix the name.',
  check(doc, ctx) {
    const out: Finding[] = [];
    const check = (ins: Instruction, ref: string, what: string) => {
      const lower = ref.toLowerCase();
      const current = ins.stage;
      if (/^\d+$/.test(ref)) {
        if (Number(ref) >= current)
          out.push(
            findingAt(
              this,
              ctx,
              { line: ins.line },
              `${what} ${ref} refers to stage ${ref}, which is not an earlier stage`,
            ),
          );
        return;
      }
      if (doc.stages.some((s) => s.index < current && s.name === lower)) return;
      const later = doc.stages.find((s) => s.index >= current && s.name === lower);
      if (later)
        out.push(
          findingAt(
            this,
            ctx,
            { line: ins.line },
            `${what} ${ref} names a stage defined at line ${later.from.line}, not before: it is pulled as an image instead`,
          ),
        );
      else if (!/[:/@.]/.test(ref) && !ref.includes('$') && lower !== 'scratch')
        out.push(
          findingAt(
            this,
            ctx,
            { line: ins.line },
            `${what} ${ref} is not a stage; it would be pulled as the image docker.io/library/${lower}`,
            { severity: 'medium' },
          ),
        );
    };
    for (const ins of doc.instructions) {
      // An ONBUILD COPY --from names a stage of the build that uses this image: not judged here.
      if (ins.onbuild) continue;
      if ((ins.keyword === 'COPY' || ins.keyword === 'ADD') && ins.flags.from !== undefined)
        check(ins, ins.flags.from, 'COPY --from');
    }
    const names = new Map<string, number>();
    for (const st of doc.stages) {
      if (st.name && names.has(st.name))
        out.push(
          findingAt(
            this,
            ctx,
            { line: st.from.line },
            `stage name ${st.name} is already used at line ${names.get(st.name)}`,
          ),
        );
      if (st.name) names.set(st.name, st.from.line);
      const img = st.image.toLowerCase();
      const later = doc.stages.find((s) => s.index >= st.index && s.name === img);
      if (later)
        out.push(
          findingAt(
            this,
            ctx,
            { line: st.from.line },
            `FROM ${st.image} names a stage defined at line ${later.from.line}, not before: it is pulled as an image instead`,
          ),
        );
    }
    return out;
  },
};

export const DOCKERFILE_RULES: readonly DRule[] = [
  latestBaseImage,
  unpinnedBaseImage,
  rootUser,
  addRemoteWithoutChecksum,
  curlPipeShell,
  secretInEnvArg,
  aptNoInstallRecommends,
  aptListsNotCleaned,
  apkNoCache,
  pipNoCacheDir,
  unpinnedPackages,
  missingHealthcheck,
  badStageReference,
];
