import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isVouchError } from '../../core/errors.ts';
import { type Component, generateSbom, isFailed, type Sbom } from '../../sbom/index.ts';
import { matchComponents, type VulnDatabase } from '../../vuln/index.ts';
import type { Finding, Severity } from '../finding.ts';
import { type DepsPolicy, globMatches } from './policy.ts';
import { type DepContext, originsOf, packageName, shownUrl } from './rule.ts';
import { DEP_RULE_UNITS } from './rules/index.ts';
import { parseLicenseExpression, satisfiable } from './spdx.ts';

/** The dependency rules, for the rule catalogue (SARIF, docs). */
export const DEP_RULES: readonly {
  id: string;
  severity: Severity;
  title: string;
  description: string;
}[] = [
  {
    id: 'dep/denied-package',
    severity: 'high',
    title: 'Denied package',
    description:
      'A package the dependency policy denies by name or package URL (compromised, abandoned, or replaced by an internal one). Remove it, or the dependency that pulls it in, and regenerate the lockfile.',
  },
  {
    id: 'dep/license-denied',
    severity: 'high',
    title: 'Licence denied by policy',
    description:
      'Every choice the package’s SPDX licence expression offers includes a licence the policy denies. Replace the package, or get the licence cleared and add an exception.',
  },
  {
    id: 'dep/license-not-allowed',
    severity: 'high',
    title: 'Licence outside the allowed list',
    description:
      'No choice the package’s SPDX licence expression offers uses only allowed licences. Replace the package or extend licenses.allow after review.',
  },
  {
    id: 'dep/license-unknown',
    severity: 'medium',
    title: 'Licence unknown',
    description:
      'The lockfile records no licence (or no valid SPDX expression) for the package, so it cannot be shown to satisfy licenses.allow. Check the package’s licence and add it to the policy, or replace the package.',
  },
  {
    id: 'dep/non-registry-source',
    severity: 'high',
    title: 'Dependency from outside a registry',
    description:
      'The package (or one of its copies) comes from a git repository, a tarball URL or a local path instead of a registry: it bypasses the registry’s immutability and provenance, and a branch or URL can change under the same lockfile. Publish it to a registry (or pin it by content hash) or allow the source kind or package in sources.',
  },
  ...DEP_RULE_UNITS.map(({ id, severity, title, description }) => ({
    id,
    severity,
    title,
    description,
  })),
];

const SEVERITY = new Map(DEP_RULES.map((r) => [r.id, r.severity]));

export interface DepsOutcome {
  findings: Finding[];
  /** Lockfiles the SBOM readers could not read: reported per file, the scan goes on. */
  parseErrors: { file: string; message: string; line?: number }[];
  /** Lockfiles read. */
  lockfiles: number;
  /** Rules that could not run, and why (e.g. dep/known-malicious without a vulnerability database). */
  notChecked: { ruleId: string; reason: string }[];
}

/** Component ref → ids of the OSV MAL- records that match it. */
function maliciousOf(db: VulnDatabase, components: readonly Component[], now: Date) {
  const r = matchComponents(
    db,
    components.map((c) => ({ ref: c.ref, name: packageName(c), version: c.version, purl: c.purl })),
    { now },
  );
  const out = new Map<string, string[]>();
  for (const f of r.findings) {
    const ids = [f.id, ...f.aliases, ...f.records].filter((id) => id.startsWith('MAL-'));
    if (ids.length === 0) continue;
    out.set(f.component.ref, [...new Set([...(out.get(f.component.ref) ?? []), ...ids])].sort());
  }
  return out;
}

/**
 * Checks every component of the SBOM of `root` (a directory or one lockfile)
 * against the policy. Findings point at the lockfile that declares the
 * package, at the first line naming it.
 */
export async function checkDependencies(
  root: string,
  policy: DepsPolicy,
  options: {
    ignore?: readonly string[];
    rootIsFile?: boolean;
    /** For dep/known-malicious; without it that rule is reported as not checked. */
    vulnDb?: VulnDatabase;
    /** For withdrawn-record checks when matching (default: now). */
    now?: Date;
  } = {},
): Promise<DepsOutcome> {
  const notChecked = options.vulnDb
    ? []
    : [
        {
          ruleId: 'dep/known-malicious',
          reason: 'no vulnerability database (vouch db update, or --db DIR)',
        },
      ];
  let sbom: Sbom;
  try {
    sbom = await generateSbom(root, {
      allowPartial: true,
      ignore: options.ignore ?? [],
      created: '1970-01-01T00:00:00Z',
    });
  } catch (e) {
    // A target without any lockfile reader (e.g. an image tar given to scan) has no dependencies to check.
    if (isVouchError(e) && e.code === 'USAGE')
      return { findings: [], parseErrors: [], lockfiles: 0, notChecked };
    throw e;
  }
  const parseErrors = sbom.accounting
    .filter((a) => isFailed(a))
    .map((a) => ({ file: a.file, message: `${a.reader}: ${a.incompleteReason ?? 'unreadable'}` }));
  const texts = new Map<string, string[] | null>();
  const base = options.rootIsFile ? join(root, '..') : root;
  const lineOf = async (file: string, c: Component): Promise<number> => {
    if (!texts.has(file)) {
      const t = await readFile(join(base, ...file.split('!/')[0]!.split('/')), 'utf8').catch(
        () => null,
      );
      texts.set(file, t === null ? null : t.split('\n'));
    }
    const lines = texts.get(file);
    if (!lines) return 1;
    const name = packageName(c);
    const needles = [
      `node_modules/${name}"`,
      `"${name}"`,
      `'${name}'`,
      `${name}@`,
      `${name} `,
      name,
    ];
    for (const n of needles) {
      const i = lines.findIndex((l) => l.includes(n));
      if (i !== -1) return i + 1;
    }
    return 1;
  };
  const findings: Finding[] = [];
  const add = async (c: Component, ruleId: string, message: string, fix?: string) => {
    const file = c.foundIn[0] ?? '(unknown)';
    const f: Finding = {
      ruleId,
      severity: SEVERITY.get(ruleId) ?? 'high',
      message,
      file,
      line: await lineOf(file, c),
      snippet: `${packageName(c)}@${c.version}`,
      category: 'dependency',
    };
    if (fix !== undefined) f.fix = fix;
    findings.push(f);
  };
  const allow = policy.licenses.allow?.map((s) => s.toLowerCase());
  const deny = policy.licenses.deny?.map((s) => s.toLowerCase());
  // The project itself (and its workspaces) is not a dependency of itself.
  const roots = new Set(sbom.roots);
  const ctx: DepContext = { policy };
  if (options.vulnDb) {
    const deps = sbom.components.filter((c) => !roots.has(c.ref));
    ctx.malicious = maliciousOf(options.vulnDb, deps, options.now ?? new Date());
  }
  for (const c of sbom.components) {
    if (roots.has(c.ref)) continue;
    const name = packageName(c);
    const id = `${name}@${c.version}`;
    const denied = policy.deny.find(
      (d) =>
        (d.name !== undefined && globMatches(d.name, name)) ||
        (d.purl !== undefined && globMatches(d.purl, c.purl)),
    );
    if (denied) {
      await add(
        c,
        'dep/denied-package',
        `${id} is denied by ${denied.name !== undefined ? `name ${denied.name}` : `purl ${denied.purl}`}${denied.reason ? `: ${denied.reason}` : ''}`,
      );
    }
    if (allow || deny) {
      const exprs = c.licenses.map((l) => parseLicenseExpression(l));
      const text = c.licenses.join(' AND ');
      const known = exprs.length > 0 && exprs.every((e) => e !== undefined);
      const all = (ok: (id: string) => boolean) =>
        exprs.every((e) => e !== undefined && satisfiable(e, ok));
      const base = (lid: string) => lid.toLowerCase().replace(/\+$/, '');
      if (deny && known && !all((lid) => !deny.includes(base(lid)))) {
        await add(
          c,
          'dep/license-denied',
          `${id} is licensed ${text}: no choice avoids the denied licences (${policy.licenses.deny?.join(', ')})`,
        );
      } else if (allow && !known) {
        await add(
          c,
          'dep/license-unknown',
          c.licenses.length === 0
            ? `${id} has no licence recorded in its lockfile`
            : `${id} has a licence that is not an SPDX expression: ${JSON.stringify(text)}`,
        );
      } else if (allow && !all((lid) => allow.includes(base(lid)))) {
        await add(
          c,
          'dep/license-not-allowed',
          `${id} is licensed ${text}, outside the allowed licences`,
        );
      }
    }
    // Every origin is judged (copies of one package can come from a registry
    // and from git); one finding names every origin outside sources.allow.
    const outside = originsOf(c).filter(
      (o) => o.kind !== 'registry' && !policy.sources.allow.includes(o.kind),
    );
    if (outside.length > 0 && !policy.sources.exceptions.some((g) => globMatches(g, c.purl))) {
      const kinds = [...new Set(outside.map((o) => o.kind))];
      const where = outside
        .map((o) => `a ${o.kind} source${o.url ? ` (${shownUrl(o.url)})` : ''}`)
        .join(' and ');
      await add(
        c,
        'dep/non-registry-source',
        `${id} comes from ${where}, not a registry`,
        `publish ${name} to a registry, or allow ${kinds.map((k) => `"${k}"`).join(' and ')} in sources.allow or the package in sources.exceptions`,
      );
    }
    for (const rule of DEP_RULE_UNITS) {
      const hit = rule.check(c, ctx);
      if (hit) await add(c, rule.id, hit.message, hit.fix);
    }
  }
  return { findings, parseErrors, lockfiles: sbom.accounting.length, notChecked };
}
