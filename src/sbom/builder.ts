import { createRequire } from 'node:module';
import type { PackageURL as PackageURLClass } from 'packageurl-js';
import { errorMessage, VouchError } from '../core/errors.ts';
import type {
  Accounting,
  Component,
  Dependency,
  Ecosystem,
  Hash,
  ReaderResult,
  Scope,
  Source,
} from './model.ts';

export interface ComponentInput {
  ecosystem: Ecosystem;
  namespace?: string | undefined;
  name: string;
  version: string;
  scope?: Scope;
  licenses?: readonly string[];
  hashes?: readonly Hash[];
  source?: Source;
  properties?: Record<string, string>;
  /** purl qualifiers (e.g. { distro: 'debian-12', arch: 'amd64' }). */
  qualifiers?: Record<string, string>;
  /** purl subpath, rarely needed. */
  subpath?: string;
}

const SCOPE_RANK: Record<Scope, number> = { required: 0, peer: 1, optional: 2, dev: 3 };

/**
 * Collects one reader's output for one source file, merging entries that are
 * the same package (same purl) and counting everything so the accounting
 * identity `declared = emitted + merged + skipped` holds by construction:
 * call `declare()` once per package entry in the source, then exactly one of
 * `add()` or `skip()` for it.
 */
export class ResultBuilder {
  readonly #file: string;
  readonly #reader: string;
  readonly #format: string;
  readonly #byRef = new Map<string, Component>();
  readonly #edges = new Map<string, Set<string>>();
  readonly #roots = new Set<string>();
  #declared = 0;
  #merged = 0;
  readonly #skipped: Accounting['skipped'] = [];
  #incomplete: string | undefined;

  constructor(file: string, reader: string, format: string) {
    this.#file = file;
    this.#reader = reader;
    this.#format = format;
  }

  /** Counts one package entry of the source. */
  declare(n = 1): void {
    this.#declared += n;
  }

  /** Adds (or merges) a component and returns its ref. */
  add(input: ComponentInput): string {
    let purl: string;
    try {
      purl = purlOf(input);
    } catch (e) {
      // packageurl-js refuses some names and versions with its own errors
      // (even a ReferenceError from a bug of its own): the entry is malformed.
      throw new VouchError(
        'LOCKFILE_MALFORMED',
        `cannot form a package URL for ${JSON.stringify(`${input.namespace ? `${input.namespace}/` : ''}${input.name}@${input.version ?? ''}`)}: ${errorMessage(e)}`,
        { file: this.#file, cause: e },
      );
    }
    if (input.source?.url !== undefined) checkSourceUrl(input, this.#file);
    const existing = this.#byRef.get(purl);
    const scope = input.scope ?? 'required';
    if (existing) {
      this.#merged++;
      // The same package reached as required and as dev is required.
      if (SCOPE_RANK[scope] < SCOPE_RANK[existing.scope]) existing.scope = scope;
      for (const l of input.licenses ?? [])
        if (!existing.licenses.includes(l)) existing.licenses.push(l);
      // Two different digests under one algorithm are both kept: dropping one
      // would hide that the entries disagree (mergeResults does the same).
      for (const h of input.hashes ?? []) {
        if (!existing.hashes.some((x) => x.algorithm === h.algorithm && x.value === h.value))
          existing.hashes.push({ ...h });
      }
      // Every distinct origin is kept: a plain-HTTP or git copy must not hide behind another.
      mergeOrigins(existing, input);
      // Properties of every entry are kept; on the same key the first entry's value stays.
      for (const [k, v] of Object.entries(input.properties ?? {})) {
        existing.properties ??= {};
        if (!(k in existing.properties)) existing.properties[k] = v;
      }
      return purl;
    }
    const c: Component = {
      ref: purl,
      ecosystem: input.ecosystem,
      name: input.name,
      version: input.version,
      purl,
      scope,
      licenses: [...(input.licenses ?? [])],
      hashes: [...(input.hashes ?? [])],
      foundIn: [this.#file],
    };
    if (input.namespace) c.namespace = input.namespace;
    if (input.source) c.source = { ...input.source };
    if (input.properties && Object.keys(input.properties).length > 0)
      c.properties = { ...input.properties };
    this.#byRef.set(purl, c);
    return purl;
  }

  /** Records an entry that could not be mapped, with the reason. */
  skip(entry: string, reason: string): void {
    this.#skipped.push({ entry, reason });
  }

  depend(from: string, to: string): void {
    if (from === to) return;
    let set = this.#edges.get(from);
    if (!set) {
      set = new Set();
      this.#edges.set(from, set);
    }
    set.add(to);
  }

  root(ref: string): void {
    this.#roots.add(ref);
  }

  /** Marks the result as partial by nature (e.g. pom.xml lists only declared dependencies). */
  incomplete(reason: string): void {
    this.#incomplete = reason;
  }

  has(ref: string): boolean {
    return this.#byRef.has(ref);
  }

  build(): ReaderResult {
    const components = [...this.#byRef.values()].sort((a, b) => cmp(a.ref, b.ref));
    for (const c of components) {
      c.licenses.sort();
      c.hashes.sort((a, b) => cmp(a.algorithm, b.algorithm) || cmp(a.value, b.value));
    }
    const dependencies: Dependency[] = [...this.#edges.entries()]
      .map(([ref, to]) => ({ ref, dependsOn: [...to].sort(cmp) }))
      .sort((a, b) => cmp(a.ref, b.ref));
    const accounting: Accounting = {
      file: this.#file,
      reader: this.#reader,
      format: this.#format,
      declared: this.#declared,
      emitted: components.length,
      merged: this.#merged,
      skipped: this.#skipped,
    };
    if (this.#incomplete !== undefined) {
      accounting.incomplete = true;
      accounting.incompleteReason = this.#incomplete;
    }
    return { components, dependencies, roots: [...this.#roots].sort(cmp), accounting };
  }
}

/**
 * Controls and line breaks (C0, DEL, C1, U+2028, U+2029): no URL or path a
 * lockfile records as a source may hold one. Raw in a URL they are malformed
 * input, and written out they could split one origin into forged lines.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

function checkSourceUrl(input: ComponentInput, file: string): void {
  const m = CONTROL.exec(input.source?.url ?? '');
  if (!m) return;
  const code = (m[0].codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0');
  const id = `${input.namespace ? `${input.namespace}/` : ''}${input.name}@${input.version ?? ''}`;
  throw new VouchError(
    'LOCKFILE_MALFORMED',
    `the ${input.source?.kind} source of ${JSON.stringify(id)} contains a control character (U+${code}): ${JSON.stringify(input.source?.url)}`,
    { file },
  );
}

/** The public registry of a component's ecosystem: what a copy with no recorded source came from. */
const PUBLIC_REGISTRY: Source = { kind: 'registry' };

/** Every origin of a component: its source (absent: the public registry), then its other sources. */
export function originsOf(c: Pick<Component, 'source' | 'otherSources'>): Source[] {
  return [c.source ?? PUBLIC_REGISTRY, ...(c.otherSources ?? [])];
}

/**
 * Adds the origins of `from` (another copy of the same package) to `into`:
 * `into.source` stays the first non-public origin seen, every other distinct
 * origin goes to `otherSources`, sorted. The outcome depends only on which
 * copy is first with a source, never on the order of the others.
 */
export function mergeOrigins(
  into: Pick<Component, 'source' | 'otherSources'>,
  from: Pick<Component, 'source' | 'otherSources'>,
): void {
  // The usual case: the same origin again, nothing else.
  if (from.otherSources === undefined && sameSource(from.source, into.source)) return;
  const all = new Map<string, Source>();
  for (const s of originsOf(into)) all.set(sourceKey(s), s);
  for (const s of originsOf(from)) if (!all.has(sourceKey(s))) all.set(sourceKey(s), { ...s });
  if (!into.source && from.source) into.source = { ...from.source };
  all.delete(sourceKey(into.source ?? PUBLIC_REGISTRY));
  if (all.size === 0) delete into.otherSources;
  else into.otherSources = [...all.values()].sort(compareSources);
}

/** Sources in (kind, url) order; no url sorts first. */
export function compareSources(a: Source, b: Source): number {
  return cmp(a.kind, b.kind) || cmp(a.url ?? '', b.url ?? '');
}

function sourceKey(s: Source): string {
  return `${s.kind}\0${s.url ?? ''}`;
}

function sameSource(a: Source | undefined, b: Source | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.kind === b.kind && a.url === b.url);
}

/**
 * ASCII characters that purl's percent-encoding (encodeURIComponent, then
 * `:` and `+` kept in versions) leaves as they are and trimming cannot touch;
 * npm names and namespaces are lowercased, as packageurl-js does.
 */
const NPM_PLAIN_NAME = /^[A-Za-z0-9._~!*'()-]+$/;
const NPM_PLAIN_VERSION = /^[A-Za-z0-9._~!*'()+:-]+$/;

/**
 * Builds the canonical purl string for a component. Plain npm packages (the
 * bulk of every JavaScript lockfile) are written directly; everything else
 * goes through packageurl-js, loaded on first use. Both give the same bytes.
 */
export function purlOf(input: ComponentInput): string {
  return plainNpmPurl(input) ?? libraryPurl(input);
}

/** The purl of an npm package whose parts need no normalising or escaping; undefined otherwise. */
export function plainNpmPurl(input: ComponentInput): string | undefined {
  if (input.ecosystem !== 'npm' || input.subpath) return undefined;
  if (input.qualifiers && Object.keys(input.qualifiers).length > 0) return undefined;
  const { namespace: ns, name, version } = input;
  if (!NPM_PLAIN_NAME.test(name)) return undefined;
  if (version && !NPM_PLAIN_VERSION.test(version)) return undefined;
  let out = 'pkg:npm/';
  if (ns) {
    if (ns.charCodeAt(0) !== 0x40 || !NPM_PLAIN_NAME.test(ns.slice(1))) return undefined;
    out += `%40${ns.slice(1).toLowerCase()}/`;
  }
  out += name.toLowerCase();
  return version ? `${out}@${version}` : out;
}

let packageUrl: typeof PackageURLClass | undefined;

/** The purl as packageurl-js writes it. */
export function libraryPurl(input: ComponentInput): string {
  packageUrl ??= (
    createRequire(import.meta.url)('packageurl-js') as { PackageURL: typeof PackageURLClass }
  ).PackageURL;
  return new packageUrl(
    input.ecosystem,
    input.namespace || undefined,
    input.name,
    input.version || undefined,
    input.qualifiers && Object.keys(input.qualifiers).length > 0 ? input.qualifiers : undefined,
    input.subpath,
  ).toString();
}

/** Converts an SRI integrity string (`sha512-<base64>`) to hashes. Unknown algorithms are dropped. */
export function hashesFromIntegrity(integrity: string | undefined): Hash[] {
  if (!integrity) return [];
  // The usual case, one hash and nothing around it, without splitting.
  const one = SRI.exec(integrity);
  if (one) return [sriHash(one)];
  const out: Hash[] = [];
  for (const part of integrity.trim().split(/\s+/)) {
    const m = SRI.exec(part);
    if (m) out.push(sriHash(m));
  }
  return out;
}

const SRI = /^(sha1|sha256|sha384|sha512)-([A-Za-z0-9+/=]+)$/;
const SRI_ALGORITHMS = {
  sha1: 'SHA-1',
  sha256: 'SHA-256',
  sha384: 'SHA-384',
  sha512: 'SHA-512',
} as const;

function sriHash(m: RegExpExecArray): Hash {
  return {
    algorithm: SRI_ALGORITHMS[m[1] as keyof typeof SRI_ALGORITHMS],
    value: Buffer.from(m[2] as string, 'base64').toString('hex'),
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
