import { createHash } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import type { Finding } from '../finding.ts';
import type { Detector, SecretSpan } from './detector.ts';

/** A secret finding: a Finding plus a fingerprint of the secret (never the secret). */
export interface SecretFinding extends Finding {
  /** First 16 hex characters of sha256(ruleId NUL secret): stable across moves, for baselines. */
  fingerprint: string;
}

export interface SecretScanOptions {
  detectors: readonly Detector[];
}

/** A line in a finding's snippet is cut to this many characters around the secret. */
const SNIPPET_MAX = 200;
/** Streaming: text scanned per step, and how much is kept past it for look-ahead. */
const CHUNK_CHARS = 1024 * 1024;
const LOOKAHEAD_CHARS = 64 * 1024;

/** A secret as it may appear in output: a known prefix of up to 4 characters, then stars. */
export function redact(value: string): string {
  const keep = value.length >= 16 ? Math.min(4, Math.floor(value.length / 8)) : 0;
  return `${value.slice(0, keep)}********`;
}

export function secretFingerprint(ruleId: string, value: string): string {
  return createHash('sha256').update(`${ruleId}\0${value}`).digest('hex').slice(0, 16);
}

/** Each detector's pattern with the `d` flag, so capture groups come with their indices. */
const COMPILED = new WeakMap<Detector, RegExp>();
function compiled(d: Detector): RegExp {
  let re = COMPILED.get(d);
  if (!re) {
    const flags = d.pattern.flags.includes('d') ? d.pattern.flags : `${d.pattern.flags}d`;
    re = new RegExp(d.pattern.source, flags.includes('g') ? flags : `${flags}g`);
    COMPILED.set(d, re);
  }
  return re;
}

interface Hit {
  detector: Detector;
  order: number;
  span: SecretSpan;
}

/**
 * Runs the detectors over `text`, keeping matches that start before
 * `acceptBefore` (the rest is look-ahead the next step scans again). Where
 * two detectors match overlapping text, the earlier one in the list (the
 * more specific) wins.
 */
function findHits(
  text: string,
  path: string,
  detectors: readonly Detector[],
  acceptBefore: number,
): Hit[] {
  const hits: Hit[] = [];
  for (const [order, d] of detectors.entries()) {
    if (d.skipPath?.(path)) continue;
    if (d.keywords.length > 0 && !d.keywords.some((k) => text.includes(k))) continue;
    const re = compiled(d);
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      if (m.index >= acceptBefore) break;
      if (m[0].length === 0) {
        re.lastIndex++;
        continue;
      }
      const g = d.group ?? 0;
      const value = m[g];
      const at = m.indices?.[g];
      if (value === undefined || at === undefined) continue;
      const verdict = d.check ? d.check(value, m, text) : true;
      if (verdict === false) continue;
      const span = verdict === true ? { index: at[0], length: value.length, value } : verdict;
      hits.push({ detector: d, order, span });
    }
  }
  hits.sort((a, b) => a.span.index - b.span.index || a.order - b.order);
  const kept: Hit[] = [];
  for (const h of hits) {
    const clash = kept.find(
      (k) =>
        h.span.index < k.span.index + k.span.length && k.span.index < h.span.index + h.span.length,
    );
    if (!clash) kept.push(h);
    else if (h.order < clash.order) kept[kept.indexOf(clash)] = h;
  }
  const pos = (h: Hit) => h.span.at ?? h.span.index;
  return kept.sort((a, b) => pos(a) - pos(b) || a.order - b.order);
}

/** Where `text` sits in its file: line of its first character, column offset of its first line. */
interface Origin {
  line: number;
  column: number;
}

function toFindings(text: string, file: string, hits: Hit[], origin: Origin): SecretFinding[] {
  if (hits.length === 0) return [];
  const out: SecretFinding[] = [];
  // Hits are in text order: count newlines incrementally, not from the start for each.
  let counted = 0;
  let lineNo = origin.line;
  for (const h of hits) {
    const i = h.span.at ?? h.span.index;
    for (let p = text.indexOf('\n', counted); p !== -1 && p < i; p = text.indexOf('\n', p + 1)) {
      lineNo++;
      counted = p + 1;
    }
    const lineStart = text.lastIndexOf('\n', i - 1) + 1;
    let lineEnd = text.indexOf('\n', i);
    if (lineEnd === -1) lineEnd = text.length;
    const column = i - lineStart + 1 + (lineStart === 0 ? origin.column : 0);
    // Every secret on the line is masked in the snippet, not only this one.
    let line = text.slice(lineStart, lineEnd).replace(/\r$/, '');
    const onLine = hits
      .filter((o) => o.span.index >= lineStart && o.span.index < lineEnd)
      .sort((a, b) => b.span.index - a.span.index);
    for (const o of onLine) {
      const s = o.span.index - lineStart;
      const e = Math.min(line.length, s + o.span.length);
      line = line.slice(0, s) + redact(o.span.value) + line.slice(e);
    }
    const snippet = window(line, i - lineStart);
    out.push({
      ruleId: h.detector.id,
      severity: h.detector.severity,
      message: `${h.detector.title} (${redact(h.span.value)}, ${h.span.value.length} characters)`,
      file,
      line: lineNo,
      column,
      snippet,
      category: 'secret',
      fingerprint: secretFingerprint(h.detector.id, h.span.value),
    });
  }
  return out;
}

/**
 * `text` — the snippet or message of a finding that is not a secret finding
 * (a `RUN curl -H "Authorization: token …" … | sh` line) — with every secret
 * the detectors find in it redacted, so no output carries it in clear.
 */
export function redactSecrets(text: string, detectors: readonly Detector[]): string {
  const hits = findHits(text, '', detectors, text.length).sort(
    (a, b) => b.span.index - a.span.index,
  );
  let out = text;
  for (const h of hits)
    out =
      out.slice(0, h.span.index) + redact(h.span.value) + out.slice(h.span.index + h.span.length);
  return out;
}

/** The line trimmed; a long line is cut to a window around `at`. */
function window(line: string, at: number): string {
  const t = line.trim();
  if (t.length <= SNIPPET_MAX) return t;
  const lead = line.length - line.trimStart().length;
  const start = Math.max(0, at - lead - 80);
  return `${start > 0 ? '…' : ''}${t.slice(start, start + SNIPPET_MAX)}…`;
}

/**
 * Scans one text (a whole file) for secrets.
 */
export function scanSecretText(
  text: string,
  file: string,
  options: SecretScanOptions,
): SecretFinding[] {
  return toFindings(text, file, findHits(text, file, options.detectors, text.length), {
    line: 1,
    column: 0,
  });
}

/**
 * Scans a stream of bytes (a huge file, stdin) without holding it: about
 * CHUNK_CHARS of whole lines at a time, with LOOKAHEAD_CHARS beyond for
 * matches that need what follows (a PEM body). A line longer than a chunk
 * (minified code) is cut; a secret across such a cut is found once, from the
 * look-ahead. `onText` sees each scanned piece with the line it starts on
 * (for inline suppressions).
 */
export async function scanSecretChunks(
  chunks: AsyncIterable<Buffer | string>,
  file: string,
  options: SecretScanOptions & { onText?: (text: string, firstLine: number) => void },
): Promise<SecretFinding[]> {
  const decoder = new StringDecoder('utf8');
  const out: SecretFinding[] = [];
  let pending = '';
  const origin: Origin = { line: 1, column: 0 };
  const step = (final: boolean) => {
    while (pending.length >= CHUNK_CHARS + LOOKAHEAD_CHARS || (final && pending.length > 0)) {
      let cut: number;
      if (final && pending.length < CHUNK_CHARS + LOOKAHEAD_CHARS) {
        cut = pending.length;
      } else {
        const nl = pending.lastIndexOf('\n', CHUNK_CHARS);
        cut = nl === -1 ? CHUNK_CHARS : nl + 1;
      }
      const hits = findHits(pending, file, options.detectors, cut);
      out.push(...toFindings(pending, file, hits, origin));
      const piece = pending.slice(0, cut);
      options.onText?.(piece, origin.line);
      let newlines = 0;
      let lastNl = -1;
      for (let p = piece.indexOf('\n'); p !== -1; p = piece.indexOf('\n', p + 1)) {
        newlines++;
        lastNl = p;
      }
      if (newlines === 0) origin.column += piece.length;
      else {
        origin.line += newlines;
        origin.column = piece.length - lastNl - 1;
      }
      pending = pending.slice(cut);
    }
  };
  for await (const chunk of chunks) {
    pending += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    step(false);
  }
  pending += decoder.end();
  step(true);
  return out;
}
