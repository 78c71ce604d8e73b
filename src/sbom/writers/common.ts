import { createHash } from 'node:crypto';
// The SPDX table alone: the library's index loads its models, serialisers and validators too.
import * as SPDX from '@cyclonedx/cyclonedx-library/SPDX';
import { cmp } from '../merge.ts';
import type { Component, Sbom, Source } from '../model.ts';

/**
 * A name-based UUID (RFC 9562 version 8, "custom") from the SHA-256 of a
 * document's JSON: the same document always gets the same id, a different one
 * a different id (version 5 would do the same with SHA-1). The writers build
 * every object in a fixed key order, so plain JSON.stringify is already
 * deterministic; RFC 8785 canonicalisation would add nothing but a few times
 * the cost on lockfiles of tens of thousands of packages.
 */
export function contentUuid(doc: unknown): string {
  const h = createHash('sha256').update(JSON.stringify(doc)).digest();
  h[6] = ((h[6] as number) & 0x0f) | 0x80; // version 8
  h[8] = ((h[8] as number) & 0x3f) | 0x80; // variant 10
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** JSON text for a document: two-space indent, key order as built, trailing newline. */
export function jsonText(doc: unknown): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/**
 * How one licence string of the model is written. The model keeps licences as
 * the source records them; SPDX ids are recognised with CycloneDX's own SPDX
 * table (the one its JSON Schema enumerates), case-insensitively as SPDX says.
 */
export type LicenseForm =
  | { kind: 'id'; id: string }
  | { kind: 'expression'; expression: string }
  | { kind: 'name'; name: string };

export function licenseForm(text: string): LicenseForm {
  const trimmed = text.trim();
  const id = SPDX.fixupSpdxId(trimmed);
  if (id !== undefined) return { kind: 'id', id };
  const expression = spdxExpression(trimmed);
  if (expression !== undefined) return { kind: 'expression', expression };
  return { kind: 'name', name: trimmed };
}

const OPERATORS = new Set(['AND', 'OR', 'WITH']);

/**
 * The text as a normalised SPDX licence expression, or undefined when it is
 * not one. A shape check (known ids, LicenseRef-, operators, balanced
 * parentheses), not a full SPDX parser: anything it rejects is written as a
 * licence name, which loses nothing.
 */
export function spdxExpression(text: string): string | undefined {
  const tokens = text
    .replace(/([()])/g, ' $1 ')
    .trim()
    .split(/\s+/);
  if (tokens.length === 0 || tokens[0] === '') return undefined;
  const out: string[] = [];
  let depth = 0;
  let expectOperand = true;
  for (const raw of tokens) {
    const upper = raw.toUpperCase();
    if (raw === '(') {
      if (!expectOperand) return undefined;
      depth++;
      out.push(raw);
    } else if (raw === ')') {
      if (expectOperand || --depth < 0) return undefined;
      out.push(raw);
    } else if (OPERATORS.has(upper)) {
      if (expectOperand) return undefined;
      out.push(upper);
      expectOperand = true;
    } else {
      if (!expectOperand) return undefined;
      const operand = licenseOperand(raw);
      if (operand === undefined) return undefined;
      out.push(operand);
      expectOperand = false;
    }
  }
  if (expectOperand || depth !== 0) return undefined;
  return out.join(' ').replace(/\( /g, '(').replace(/ \)/g, ')');
}

function licenseOperand(token: string): string | undefined {
  if (/^(DocumentRef-[A-Za-z0-9.-]+:)?LicenseRef-[A-Za-z0-9.-]+$/.test(token)) return token;
  const plus = token.endsWith('+') ? '+' : '';
  const id = SPDX.fixupSpdxId(plus ? token.slice(0, -1) : token) ?? SPDX.fixupSpdxId(token);
  if (id === undefined) return undefined;
  return SPDX.fixupSpdxId(token) === id ? id : `${id}${plus}`;
}

/** The name a human knows the package by: `@scope/name`, `group:artifact`, `module/path`. */
export function displayName(c: Pick<Component, 'ecosystem' | 'namespace' | 'name'>): string {
  if (!c.namespace) return c.name;
  switch (c.ecosystem) {
    case 'maven':
      return `${c.namespace}:${c.name}`;
    case 'deb':
    case 'apk':
    case 'rpm':
      // The namespace is the distribution vendor ('debian'), not part of the name.
      return c.name;
    default:
      return `${c.namespace}/${c.name}`;
  }
}

const HEX_LENGTH: Record<string, number> = {
  MD5: 32,
  'SHA-1': 40,
  'SHA-256': 64,
  'SHA-384': 96,
  'SHA-512': 128,
};

/** A hash the model holds is written only when it is well-formed hex of its algorithm's length. */
export function isWellFormedHash(h: { algorithm: string; value: string }): boolean {
  const len = HEX_LENGTH[h.algorithm];
  return len !== undefined && h.value.length === len && /^[0-9a-f]+$/.test(h.value);
}

/**
 * The components the subject directly depends on: the roots the sources name,
 * plus every component nothing else depends on (a requirements.txt or a dpkg
 * database names no root; their top-level packages hang off the subject).
 */
export function topLevel(sbom: Pick<Sbom, 'components' | 'dependencies' | 'roots'>): string[] {
  const known = new Set(sbom.components.map((c) => c.ref));
  const targets = new Set<string>();
  for (const d of sbom.dependencies) {
    if (!known.has(d.ref)) continue;
    for (const to of d.dependsOn) if (to !== d.ref) targets.add(to);
  }
  const tops = new Set(sbom.roots.filter((r) => known.has(r)));
  for (const c of sbom.components) if (!targets.has(c.ref)) tops.add(c.ref);
  return [...tops].sort(cmp);
}

/** Dependency edges restricted to refs the document lists (a dangling ref is invalid in both formats). */
export function knownEdges(
  sbom: Pick<Sbom, 'components' | 'dependencies'>,
): Array<{ ref: string; dependsOn: string[] }> {
  const known = new Set(sbom.components.map((c) => c.ref));
  return sbom.dependencies
    .filter((d) => known.has(d.ref))
    .map((d) => ({
      ref: d.ref,
      dependsOn: d.dependsOn.filter((t) => known.has(t) && t !== d.ref),
    }));
}

/** An expression as an operand of AND: parenthesised unless it is one id or already wrapped. */
export function asOperand(expression: string): string {
  if (!/\s/.test(expression)) return expression;
  if (expression.startsWith('(')) {
    let depth = 0;
    for (let i = 0; i < expression.length; i++) {
      if (expression[i] === '(') depth++;
      else if (expression[i] === ')' && --depth === 0) {
        if (i === expression.length - 1) return expression;
        break;
      }
    }
  }
  return `(${expression})`;
}

/**
 * An origin as the `vouch:source` / `vouch:otherSource` properties (and the
 * SPDX comment lines of the same names) write it: `kind:url`, or the kind
 * alone (`registry` alone is the public registry).
 */
export function sourceText(s: Source): string {
  return s.url ? `${s.kind}:${s.url}` : s.kind;
}
