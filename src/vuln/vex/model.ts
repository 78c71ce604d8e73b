/**
 * One VEX statement, whatever document it came from: OpenVEX v0.2 and
 * CycloneDX VEX are both read into this (see openvex.ts, cyclonedx.ts).
 */
export interface VexStatement {
  /** The VEX file, for the finding's "suppressed by". */
  source: string;
  format: 'openvex' | 'cyclonedx';
  /** The vulnerability id and the aliases the statement gives. */
  vulnerability: string[];
  /** Products: purls (with or without version) or artifact digests (`sha256:…`). */
  products: string[];
  /** Normalised: not_affected, fixed, affected, under_investigation, false_positive, … */
  status: string;
  justification: string;
  detail: string;
  /** RFC 3339; the latest statement about a (vulnerability, product) wins. */
  timestamp: string;
}

/** Statuses that suppress a finding. `fixed` in OpenVEX: the product no longer has it. */
export const SUPPRESSING: ReadonlySet<string> = new Set([
  'not_affected',
  'false_positive',
  'fixed',
]);

/** A VEX format reader: one file per format, listed in index.ts. */
export interface VexReader {
  readonly format: VexStatement['format'];
  /** Whether the parsed document is of this format. */
  accepts(doc: Record<string, unknown>): boolean;
  /** @throws VouchError VEX_MALFORMED */
  read(doc: Record<string, unknown>, source: string): VexStatement[];
}
