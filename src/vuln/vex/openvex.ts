import { VouchError } from '../../core/errors.ts';
import { isObject } from '../../core/json.ts';
import type { VexReader, VexStatement } from './model.ts';

const STATUSES = new Set(['not_affected', 'affected', 'fixed', 'under_investigation']);

/**
 * OpenVEX v0.2 (https://github.com/openvex/spec): `statements[]` with
 * `vulnerability` (`name`, `aliases`), `products[]` (`@id`, `identifiers.purl`,
 * `subcomponents[]`), `status`, `justification`, `impact_statement`,
 * `timestamp` (else the document's). A statement about subcomponents is
 * about those packages; without subcomponents, about the products.
 */
export const openVexReader: VexReader = {
  format: 'openvex',
  accepts: (doc) =>
    typeof doc['@context'] === 'string' && doc['@context'].startsWith('https://openvex.dev/ns'),
  read(doc, source) {
    const bad = (field: string, message: string) =>
      new VouchError('VEX_MALFORMED', message, { file: source, field });
    if (!Array.isArray(doc.statements)) throw bad('/statements', 'must be an array');
    const docTime = typeof doc.timestamp === 'string' ? doc.timestamp : '';
    return doc.statements.map((s, i): VexStatement => {
      const at = `/statements/${i}`;
      if (!isObject(s)) throw bad(at, 'not an object');
      const v = s.vulnerability;
      const ids: string[] = [];
      if (typeof v === 'string') ids.push(v);
      else if (isObject(v)) {
        if (typeof v.name === 'string') ids.push(v.name);
        if (typeof v['@id'] === 'string') ids.push(v['@id']);
        if (Array.isArray(v.aliases))
          for (const a of v.aliases) if (typeof a === 'string') ids.push(a);
      }
      if (ids.length === 0) throw bad(`${at}/vulnerability`, 'no vulnerability name');
      if (typeof s.status !== 'string' || !STATUSES.has(s.status)) {
        throw bad(`${at}/status`, `status must be one of ${[...STATUSES].join(', ')}`);
      }
      if (!Array.isArray(s.products) || s.products.length === 0) {
        throw bad(`${at}/products`, 'a statement needs at least one product');
      }
      const products: string[] = [];
      s.products.forEach((p, j) => {
        if (!isObject(p)) throw bad(`${at}/products/${j}`, 'not an object');
        const subs = Array.isArray(p.subcomponents) ? p.subcomponents : [];
        const list = subs.length > 0 ? subs : [p];
        for (const c of list) products.push(...idsOf(c));
      });
      if (products.length === 0) throw bad(`${at}/products`, 'no product names an @id or purl');
      if (
        s.status === 'not_affected' &&
        typeof s.justification !== 'string' &&
        typeof s.impact_statement !== 'string'
      ) {
        throw bad(
          `${at}`,
          'not_affected needs a justification or an impact_statement (OpenVEX §4.3)',
        );
      }
      return {
        source,
        format: 'openvex',
        vulnerability: [...new Set(ids)],
        products,
        status: s.status,
        justification: typeof s.justification === 'string' ? s.justification : '',
        detail:
          typeof s.impact_statement === 'string'
            ? s.impact_statement
            : typeof s.status_notes === 'string'
              ? s.status_notes
              : '',
        timestamp: typeof s.timestamp === 'string' ? s.timestamp : docTime,
      };
    });
  },
};

function idsOf(c: unknown): string[] {
  if (!isObject(c)) return [];
  const out: string[] = [];
  if (typeof c['@id'] === 'string') out.push(c['@id']);
  if (isObject(c.identifiers) && typeof c.identifiers.purl === 'string')
    out.push(c.identifiers.purl);
  if (isObject(c.hashes)) {
    for (const [alg, hex] of Object.entries(c.hashes)) {
      if (typeof hex === 'string') out.push(`${alg.replace('-', '')}:${hex}`);
    }
  }
  return out;
}
