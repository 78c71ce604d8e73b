/**
 * A secret detector: one credential format. Detectors are patterns plus an
 * optional check of each match (a checksum, a decoding, an entropy floor), so
 * the same pattern text can be handed to another tool (the bench gives them to
 * ripgrep) and the scanner can run every detector over a whole chunk of text
 * at once instead of line by line.
 */
import type { Severity } from '../finding.ts';

export interface Detector {
  /** `secret/<name>`: stable, suppressions and baselines match on it. */
  id: string;
  severity: Severity;
  /** One line, e.g. "GitHub token". */
  title: string;
  /** Why it matters and what to do (revoke, rotate, move to a secret store). */
  description: string;
  /**
   * Literal strings of which at least one occurs in every match: a chunk of
   * text holding none of them is not searched with `pattern` (a cheap
   * `includes` before the regex). Empty: always searched.
   */
  keywords: readonly string[];
  /**
   * The pattern, with the `g` flag (and `i` where the format is
   * case-insensitive). Written in the subset of syntax JavaScript and Rust's
   * `regex` share (no look-around, no back-references).
   */
  pattern: RegExp;
  /** Which capture group is the secret itself (0: the whole match). */
  group?: number;
  /**
   * Decides whether a match is a real candidate; may narrow the secret's span
   * (e.g. a PEM key's body after its header). `text` is the whole chunk, for
   * detectors that look past the line.
   */
  check?(secret: string, match: RegExpExecArray, text: string): SecretSpan | boolean;
  /** Paths (relative, `/`-separated) this detector does not search. */
  skipPath?(path: string): boolean;
}

/** Where a secret is in a chunk of text, and its value (for fingerprints only; never output). */
export interface SecretSpan {
  /** Where the finding points when not at the secret itself (a PEM key: its header). */
  at?: number;
  index: number;
  length: number;
  value: string;
}
