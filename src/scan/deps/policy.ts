import { LineCounter, parseDocument } from 'yaml';
import { errorMessage, VouchError } from '../../core/errors.ts';
import { readTextFile } from '../../core/json.ts';

/** The dependency policy file `vouch scan` reads from the scanned directory when present. */
export const DEPS_POLICY_FILE = '.vouch-deps.yaml';

/** Where a package may come from besides its registry. */
export const SOURCE_KINDS = ['git', 'tarball', 'file', 'link', 'workspace'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

export interface DenyEntry {
  /** Glob over the package name (`@scope/name` for npm, `group/artifact` for Maven). */
  name?: string;
  /** Glob over the package URL, e.g. `pkg:npm/event-stream@*`. */
  purl?: string;
  reason?: string;
}

export interface DepsPolicy {
  source: string;
  deny: DenyEntry[];
  licenses: {
    /** SPDX ids accepted; when set, a licence outside it (or none) is a finding. */
    allow?: string[];
    /** SPDX ids refused. */
    deny?: string[];
  };
  sources: {
    /** Non-registry sources accepted (default: workspace and link, the project's own packages). */
    allow: SourceKind[];
    /** Package URL globs that may come from anywhere. */
    exceptions: string[];
  };
  /**
   * Registries packages may be resolved from (URL prefixes such as
   * `https://registry.npmjs.org`); unset: any registry.
   */
  allowedRegistries?: string[];
  /** When set, packages with install scripts are findings unless their name matches `allow`. */
  installScripts?: { allow: string[] };
  /** Name globs of the organisation's own packages, which must never come from a public registry. */
  internalPackages: string[];
  /** Where internal packages are published (URL prefixes); unset: anywhere but the public registry. */
  internalRegistries?: string[];
}

/** The policy used when there is no policy file: only the source rule, with its defaults. */
export function defaultDepsPolicy(): DepsPolicy {
  return {
    source: '(default)',
    deny: [],
    licenses: {},
    sources: { allow: ['workspace', 'link'], exceptions: [] },
    internalPackages: [],
  };
}

/**
 * Parses `.vouch-deps.yaml`. Strict: an unknown field, a wrong type or an
 * unknown source kind is an error naming the field and line, so a typo never
 * turns a rule off.
 *
 * @throws VouchError SCAN_DEPS_POLICY_MALFORMED
 */
export function parseDepsPolicy(text: string, source: string): DepsPolicy {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false });
  const bad = (field: string, message: string, offset?: number) =>
    new VouchError('SCAN_DEPS_POLICY_MALFORMED', message, {
      file: source,
      field: offset !== undefined ? `${field} (line ${lc.linePos(offset).line})` : field,
    });
  const err = doc.errors[0];
  if (err) throw bad('/', `not valid YAML: ${err.message.split('\n')[0]}`, err.pos[0]);
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 0 });
  } catch (e) {
    throw bad('/', `not usable YAML: ${errorMessage(e)}`);
  }
  /** Offset of the key `k` in the mapping at `path` (where an unknown field is written). */
  const keyOffset = (path: (string | number)[], k: string): number | undefined => {
    const map = (path.length === 0 ? doc.contents : doc.getIn(path, true)) as
      | { items?: { key?: { value?: unknown; range?: [number, number, number] } }[] }
      | undefined;
    return map?.items?.find((p) => p.key?.value === k)?.key?.range?.[0];
  };
  const offsetOf = (path: (string | number)[]): number | undefined => {
    const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
    return node?.range?.[0];
  };
  const obj = (
    v: unknown,
    path: (string | number)[],
    fields: string[],
  ): Record<string, unknown> => {
    const field = `/${path.join('/')}`;
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      throw bad(field, 'must be a mapping', offsetOf(path));
    for (const k of Object.keys(v)) {
      if (!fields.includes(k))
        throw bad(
          `${field === '/' ? '' : field}/${k}`,
          `unknown field (known: ${fields.join(', ')})`,
          keyOffset(path, k),
        );
    }
    return v as Record<string, unknown>;
  };
  const strings = (v: unknown, path: (string | number)[]): string[] => {
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string' || s === '')) {
      throw bad(`/${path.join('/')}`, 'must be a list of non-empty strings', offsetOf(path));
    }
    return v as string[];
  };
  if (value === null || value === undefined) value = {};
  const top = obj(
    value,
    [],
    [
      'version',
      'deny',
      'licenses',
      'sources',
      'allowedRegistries',
      'installScripts',
      'internalPackages',
      'internalRegistries',
    ],
  );
  if (top.version !== 1) throw bad('/version', 'must be 1', offsetOf(['version']));
  const policy = defaultDepsPolicy();
  policy.source = source;
  if (top.deny !== undefined) {
    if (!Array.isArray(top.deny)) throw bad('/deny', 'must be a list', offsetOf(['deny']));
    policy.deny = top.deny.map((d, i) => {
      const e = obj(d, ['deny', i], ['name', 'purl', 'reason']);
      for (const k of ['name', 'purl', 'reason']) {
        if (e[k] !== undefined && (typeof e[k] !== 'string' || e[k] === '')) {
          throw bad(`/deny/${i}/${k}`, 'must be a non-empty string', offsetOf(['deny', i, k]));
        }
      }
      if ((e.name === undefined) === (e.purl === undefined)) {
        throw bad(`/deny/${i}`, 'give exactly one of name or purl', offsetOf(['deny', i]));
      }
      return e as DenyEntry;
    });
  }
  if (top.licenses !== undefined) {
    const l = obj(top.licenses, ['licenses'], ['allow', 'deny']);
    if (l.allow !== undefined) policy.licenses.allow = strings(l.allow, ['licenses', 'allow']);
    if (l.deny !== undefined) policy.licenses.deny = strings(l.deny, ['licenses', 'deny']);
  }
  if (top.sources !== undefined) {
    const s = obj(top.sources, ['sources'], ['allow', 'exceptions']);
    if (s.allow !== undefined) {
      const kinds = strings(s.allow, ['sources', 'allow']);
      for (const [i, k] of kinds.entries()) {
        if (!(SOURCE_KINDS as readonly string[]).includes(k)) {
          throw bad(
            `/sources/allow/${i}`,
            `unknown source kind ${JSON.stringify(k)} (known: ${SOURCE_KINDS.join(', ')})`,
            offsetOf(['sources', 'allow', i]),
          );
        }
      }
      policy.sources.allow = kinds as SourceKind[];
    }
    if (s.exceptions !== undefined)
      policy.sources.exceptions = strings(s.exceptions, ['sources', 'exceptions']);
  }
  const urls = (v: unknown, key: string): string[] => {
    const list = strings(v, [key]);
    for (const [i, u] of list.entries()) {
      if (!/^https?:\/\/[^/\s@]+(\/\S*)?$/.test(u)) {
        throw bad(
          `/${key}/${i}`,
          `must be a registry URL such as https://registry.npmjs.org (no credentials), got ${JSON.stringify(u)}`,
          offsetOf([key, i]),
        );
      }
    }
    return list.map((u) => u.replace(/\/+$/, ''));
  };
  if (top.allowedRegistries !== undefined)
    policy.allowedRegistries = urls(top.allowedRegistries, 'allowedRegistries');
  if (top.internalRegistries !== undefined)
    policy.internalRegistries = urls(top.internalRegistries, 'internalRegistries');
  if (top.internalPackages !== undefined)
    policy.internalPackages = strings(top.internalPackages, ['internalPackages']);
  if (top.installScripts !== undefined) {
    const i = obj(top.installScripts, ['installScripts'], ['allow']);
    policy.installScripts = {
      allow: i.allow === undefined ? [] : strings(i.allow, ['installScripts', 'allow']),
    };
  }
  return policy;
}

/**
 * Other names of a public registry, by host: registry.yarnpkg.com serves
 * exactly what registry.npmjs.org does (yarn classic writes it).
 */
const REGISTRY_HOST_ALIASES: ReadonlyMap<string, string> = new Map([
  ['registry.yarnpkg.com', 'registry.npmjs.org'],
]);

/**
 * A registry URL with an alias host replaced by the registry it stands for,
 * lowercased, without trailing slashes; the scheme is kept (plain http stays
 * plain http).
 */
export function canonicalRegistry(url: string): string {
  const r = url.replace(/\/+$/, '').toLowerCase();
  const m = /^(https?:\/\/)([^/]+)(.*)$/.exec(r);
  const host = m ? REGISTRY_HOST_ALIASES.get(m[2] as string) : undefined;
  return m && host ? `${m[1]}${host}${m[3]}` : r;
}

/**
 * True when `registry` is one of `prefixes` or below one (`https://host/path`
 * prefixes); alias hosts (registry.yarnpkg.com) count as the registry they
 * stand for, on either side.
 */
export function registryAllowed(registry: string, prefixes: readonly string[]): boolean {
  const r = canonicalRegistry(registry);
  return prefixes.some((p) => {
    const q = canonicalRegistry(p);
    return r === q || r.startsWith(`${q}/`);
  });
}

/**
 * @throws VouchError FILE_NOT_FOUND | FILE_READ | SCAN_DEPS_POLICY_MALFORMED
 */
export async function readDepsPolicy(path: string): Promise<DepsPolicy> {
  return parseDepsPolicy(await readTextFile(path, 1024 * 1024), path);
}

/** A glob where `*` is any run of characters (including `/`) and `?` one character. */
export function globMatches(glob: string, text: string): boolean {
  const re = new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return re.test(text);
}
