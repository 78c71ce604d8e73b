import { PackageURL } from 'packageurl-js';
import { VouchError } from '../../core/errors.ts';
import { isObject } from '../../core/json.ts';
import type { Finding } from '../match.ts';
import { cycloneDxVexReader } from './cyclonedx.ts';
import { SUPPRESSING, type VexReader, type VexStatement } from './model.ts';
import { openVexReader } from './openvex.ts';

export { SUPPRESSING, type VexReader, type VexStatement } from './model.ts';

/** Every VEX format vouch reads, in the order tried. */
export const VEX_READERS: readonly VexReader[] = [openVexReader, cycloneDxVexReader];

/**
 * Reads a parsed VEX document (OpenVEX v0.2 or CycloneDX VEX).
 *
 * @throws VouchError VEX_MALFORMED
 */
export function readVex(value: unknown, source: string): VexStatement[] {
  if (!isObject(value))
    throw new VouchError('VEX_MALFORMED', 'not a JSON object', { file: source });
  const reader = VEX_READERS.find((r) => r.accepts(value));
  if (!reader) {
    throw new VouchError(
      'VEX_MALFORMED',
      'neither OpenVEX (@context https://openvex.dev/ns/…) nor CycloneDX (bomFormat)',
      { file: source },
    );
  }
  return reader.read(value, source);
}

/**
 * Marks findings that a VEX statement suppresses (`suppressed` set, never
 * removed). For each finding, the statements that name one of its ids and
 * one of its products are considered, and the latest (by timestamp, then
 * by order given) decides: not_affected, false_positive or fixed suppress;
 * affected or under_investigation keep the finding open.
 *
 * A product matches a component when it is a purl of the same package
 * (version, when the product gives one, equal; qualifiers ignored), the
 * component's ref, or one of `subjects` (the scanned artifact's digests,
 * `sha256:…`): then the statement covers every component.
 */
export function applyVex(
  findings: readonly Finding[],
  statements: readonly VexStatement[],
  subjects: readonly string[] = [],
): Finding[] {
  const keyed = statements.map((s, order) => ({
    s,
    order,
    ids: new Set(s.vulnerability),
    products: s.products.map(productOf),
  }));
  const subjectSet = new Set(subjects.map((x) => x.toLowerCase()));
  return findings.map((f) => {
    const ids = [f.id, ...f.aliases];
    const component = productOf(f.component.purl ?? '');
    let best: (typeof keyed)[number] | undefined;
    for (const k of keyed) {
      if (!ids.some((id) => k.ids.has(id))) continue;
      const hit = k.products.some(
        (p) =>
          (p.kind === 'purl' && component.kind === 'purl' && purlMatches(p, component)) ||
          (p.kind === 'other' &&
            (p.text === f.component.ref || subjectSet.has(p.text.toLowerCase()))),
      );
      if (!hit) continue;
      if (
        !best ||
        k.s.timestamp > best.s.timestamp ||
        (k.s.timestamp === best.s.timestamp && k.order > best.order)
      ) {
        best = k;
      }
    }
    if (!best || !SUPPRESSING.has(best.s.status)) return f;
    return {
      ...f,
      suppressed: {
        source: best.s.source,
        format: best.s.format,
        status: best.s.status,
        justification: best.s.justification,
        detail: best.s.detail,
      },
    };
  });
}

type Product =
  | { kind: 'purl'; type: string; namespace: string; name: string; version: string | undefined }
  | { kind: 'other'; text: string };

function productOf(text: string): Product {
  if (text.startsWith('pkg:')) {
    try {
      const p = PackageURL.fromString(text);
      const lower = p.type !== 'golang' && p.type !== 'maven';
      const norm = (s: string) => (lower ? s.toLowerCase() : s);
      return {
        kind: 'purl',
        type: p.type,
        namespace: norm(p.namespace ?? ''),
        name: norm(p.name),
        version: p.version ?? undefined,
      };
    } catch {
      // not a parseable purl: compared as text
    }
  }
  return { kind: 'other', text };
}

function purlMatches(
  vex: Extract<Product, { kind: 'purl' }>,
  c: Extract<Product, { kind: 'purl' }>,
): boolean {
  return (
    vex.type === c.type &&
    vex.namespace === c.namespace &&
    vex.name === c.name &&
    (vex.version === undefined || vex.version === c.version)
  );
}
