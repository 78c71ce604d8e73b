import { open, stat } from 'node:fs/promises';
import { canonicalize } from '../../core/canonical.ts';
import { classifyPair, dominant, sameLinesReordered } from './classify.ts';
import { type DiffClass, type Difference, HINTS } from './types.ts';

const CONTEXT = 3;
const MAX_DIFF_LINES = 200;
const MAX_LCS_CELLS = 4_000_000;

/**
 * Compares two regular files' bytes: text line by line (JSON first without
 * key order), anything else by byte ranges with hex context. Returns one
 * difference, or none when the bytes are equal.
 */
export async function compareLeaf(
  fileA: string,
  fileB: string,
  path: string,
  options: { maxTextBytes: number; buildPaths: readonly string[] },
): Promise<Difference | undefined> {
  const [sa, sb] = await Promise.all([stat(fileA), stat(fileB)]);
  if (sa.size <= options.maxTextBytes && sb.size <= options.maxTextBytes) {
    const [a, b] = await Promise.all([readAll(fileA), readAll(fileB)]);
    if (a.equals(b)) return undefined;
    const ta = asText(a);
    const tb = asText(b);
    if (ta !== undefined && tb !== undefined) return compareText(ta, tb, path, options.buildPaths);
  }
  return compareBinary(fileA, fileB, sa.size, sb.size, path, options.buildPaths);
}

function asText(b: Buffer): string | undefined {
  if (b.includes(0)) return undefined;
  const t = b.toString('utf8');
  return t.includes('\uFFFD') && !b.includes(Buffer.from('\uFFFD')) ? undefined : t;
}

export function compareText(
  a: string,
  b: string,
  path: string,
  buildPaths: readonly string[],
): Difference | undefined {
  if (a === b) return undefined;
  const ja = parseJson(a);
  const jb = parseJson(b);
  if (ja !== undefined && jb !== undefined) {
    const ca = canonicalize(ja);
    const cb = canonicalize(jb);
    if (ca === cb) {
      return {
        path,
        kind: 'content',
        class: 'json-key-order',
        hint: HINTS['json-key-order'],
        detail: 'the same JSON value with keys or whitespace in another order',
      };
    }
    // Compare the values, not the layout: pretty-printed with sorted keys.
    a = `${JSON.stringify(sortKeys(ja), null, 2)}\n`;
    b = `${JSON.stringify(sortKeys(jb), null, 2)}\n`;
  }
  const la = a.split('\n');
  const lb = b.split('\n');
  const { ops, classes } = lineDiff(la, lb, buildPaths);
  const cls = sameLinesReordered(la, lb) ? 'file-order' : dominant(classes);
  return { path, kind: 'content', class: cls, hint: HINTS[cls], detail: ops };
}

function parseJson(t: string): unknown {
  const s = t.trimStart();
  if (!s.startsWith('{') && !s.startsWith('[')) return undefined;
  try {
    return JSON.parse(t);
  } catch {
    return undefined;
  }
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

type Op = { t: ' ' | '-' | '+'; line: string };

/** A unified diff (3 lines of context) and a class per changed line pair. */
export function lineDiff(
  a: readonly string[],
  b: readonly string[],
  buildPaths: readonly string[],
): { ops: string; classes: DiffClass[] } {
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (
    suf < a.length - pre &&
    suf < b.length - pre &&
    a[a.length - 1 - suf] === b[b.length - 1 - suf]
  )
    suf++;
  const ma = a.slice(pre, a.length - suf);
  const mb = b.slice(pre, b.length - suf);
  const middle: Op[] =
    (ma.length + 1) * (mb.length + 1) <= MAX_LCS_CELLS
      ? lcs(ma, mb)
      : [
          ...ma.map((line) => ({ t: '-' as const, line })),
          ...mb.map((line) => ({ t: '+' as const, line })),
        ];
  const ops: Op[] = [
    ...a.slice(Math.max(0, pre - CONTEXT), pre).map((line) => ({ t: ' ' as const, line })),
    ...middle,
    ...a.slice(a.length - suf, a.length - suf + CONTEXT).map((line) => ({ t: ' ' as const, line })),
  ];
  // Pair removed and added lines of each change block for classification.
  const classes: DiffClass[] = [];
  let minus: string[] = [];
  let plus: string[] = [];
  const flush = () => {
    const n = Math.max(minus.length, plus.length);
    for (let i = 0; i < n; i++)
      classes.push(classifyPair(minus[i] ?? '', plus[i] ?? '', buildPaths));
    minus = [];
    plus = [];
  };
  for (const op of ops) {
    if (op.t === '-') minus.push(op.line);
    else if (op.t === '+') plus.push(op.line);
    else flush();
  }
  flush();
  const lines = [`@@ -${Math.max(1, pre - CONTEXT + 1)} +${Math.max(1, pre - CONTEXT + 1)} @@`];
  for (const op of ops.slice(0, MAX_DIFF_LINES)) lines.push(`${op.t}${op.line}`);
  if (ops.length > MAX_DIFF_LINES) lines.push(`… ${ops.length - MAX_DIFF_LINES} more lines`);
  return { ops: lines.join('\n'), classes };
}

function lcs(a: readonly string[], b: readonly string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const w = m + 1;
  const t = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      t[i * w + j] =
        a[i] === b[j]
          ? (t[(i + 1) * w + j + 1] as number) + 1
          : Math.max(t[(i + 1) * w + j] as number, t[i * w + j + 1] as number);
    }
  }
  const out: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push({ t: ' ', line: a[i] as string });
      i++;
      j++;
    } else if ((t[(i + 1) * w + j] as number) >= (t[i * w + j + 1] as number))
      out.push({ t: '-', line: a[i++] as string });
    else out.push({ t: '+', line: b[j++] as string });
  }
  while (i < n) out.push({ t: '-', line: a[i++] as string });
  while (j < m) out.push({ t: '+', line: b[j++] as string });
  return out;
}

const CHUNK = 1024 * 1024;

/** Byte ranges that differ, read side by side in chunks: memory stays at two chunks. */
async function compareBinary(
  fileA: string,
  fileB: string,
  sizeA: number,
  sizeB: number,
  path: string,
  buildPaths: readonly string[],
): Promise<Difference | undefined> {
  const [fa, fb] = await Promise.all([open(fileA, 'r'), open(fileB, 'r')]);
  try {
    const [idA, idB] = await Promise.all([buildId(fa, sizeA), buildId(fb, sizeB)]);
    const idDiffers = idA !== undefined && idB !== undefined && idA.hex !== idB.hex;
    // Bytes of the build ID itself, when both sides have it at the same place.
    const inId = (at: number) =>
      idDiffers && idA.start === idB.start && at >= idA.start && at < idA.end;
    let outside = 0;
    const ba = Buffer.alloc(CHUNK + 64);
    const bb = Buffer.alloc(CHUNK + 64);
    let differing = 0;
    const regions: string[] = [];
    const classes: DiffClass[] = [];
    const common = Math.min(sizeA, sizeB);
    for (let off = 0; off < common; off += CHUNK) {
      const n = Math.min(CHUNK, common - off);
      await Promise.all([fa.read(ba, 0, n, off), fb.read(bb, 0, n, off)]);
      if (ba.subarray(0, n).equals(bb.subarray(0, n))) continue;
      let i = 0;
      while (i < n) {
        if (ba[i] === bb[i]) {
          i++;
          continue;
        }
        const start = i;
        while (i < n && ba[i] !== bb[i]) i++;
        differing += i - start;
        let own = 0;
        for (let k = start; k < i; k++) if (!inId(off + k)) own++;
        outside += own;
        if (regions.length < 3) {
          const from = Math.max(0, start - 16);
          const to = Math.min(n, i + 16);
          regions.push(
            `@ 0x${(off + start).toString(16)}:\n- ${hexLine(ba.subarray(from, to))}\n+ ${hexLine(bb.subarray(from, to))}`,
          );
        }
        if (classes.length < 64 && own > 0) {
          const from = Math.max(0, start - 48);
          const to = Math.min(n, i + 48);
          classes.push(
            classifyPair(
              printable(ba.subarray(from, to)),
              printable(bb.subarray(from, to)),
              buildPaths,
            ),
          );
        }
      }
    }
    if (differing === 0 && sizeA === sizeB) return undefined;
    const sizes = sizeA === sizeB ? `${sizeA} bytes each` : `${sizeA} vs ${sizeB} bytes`;
    const head = `binary, ${sizes}, ${differing} differing bytes in the common part`;
    const idLine = idDiffers ? `GNU build ID (.note.gnu.build-id): ${idA.hex} → ${idB.hex}` : '';
    if (idDiffers && outside === 0 && sizeA === sizeB) {
      return {
        path,
        kind: 'content',
        class: 'random-id',
        hint: BUILD_ID_HINT,
        detail: `${head}: only the build ID\n${idLine}\n${regions.join('\n')}`,
      };
    }
    // Byte offsets stop lining up after the first insertion; the strings say what changed.
    const strings = await differingStrings(fileA, fileB, sizeA, sizeB, buildPaths);
    const known = strings && dominant(strings.classes);
    const cls = known && known !== 'unknown' ? known : dominant(classes);
    const lines = [head];
    if (strings?.text) lines.push(strings.text);
    if (idLine) lines.push(`${idLine} (a hash of the rest: follows from the other differences)`);
    lines.push(...regions);
    return { path, kind: 'content', class: cls, hint: HINTS[cls], detail: lines.join('\n') };
  } finally {
    await Promise.all([fa.close(), fb.close()]);
  }
}

const BUILD_ID_HINT =
  'only the GNU build ID differs, which the linker normally derives from the rest (--build-id=sha1): look for --build-id=uuid or an explicit --build-id=0x… value in the link flags';

/** The GNU build ID note of an ELF file (type 3, owner "GNU"), searched for in its first MiB. */
async function buildId(
  fh: Awaited<ReturnType<typeof open>>,
  size: number,
): Promise<{ start: number; end: number; hex: string } | undefined> {
  const buf = Buffer.alloc(Math.min(size, 1024 * 1024));
  const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
  const b = buf.subarray(0, bytesRead);
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const le = b[5] === 1;
  const u32 = (at: number) => (le ? b.readUInt32LE(at) : b.readUInt32BE(at));
  for (
    let at = b.indexOf('GNU\0', 12, 'latin1');
    at >= 12;
    at = b.indexOf('GNU\0', at + 1, 'latin1')
  ) {
    const h = at - 12;
    const descsz = u32(h + 4);
    if (h % 4 !== 0 || u32(h) !== 4 || u32(h + 8) !== 3 || descsz < 8 || descsz > 64) continue;
    if (at + 4 + descsz > b.length) return undefined;
    return { start: at + 4, end: at + 4 + descsz, hex: b.toString('hex', at + 4, at + 4 + descsz) };
  }
  return undefined;
}

const STRINGS_MIN = 8;
const STRINGS_MAX_FILE = 64 * 1024 * 1024;
const STRINGS_MAX = 100_000;

/**
 * Like `strings -n 8` on both files: the printable runs only one side has,
 * classified pairwise (sorted, so the same string with another path lines up).
 */
async function differingStrings(
  fileA: string,
  fileB: string,
  sizeA: number,
  sizeB: number,
  buildPaths: readonly string[],
): Promise<{ classes: DiffClass[]; text: string } | undefined> {
  if (sizeA > STRINGS_MAX_FILE || sizeB > STRINGS_MAX_FILE) return undefined;
  const [sa, sb] = await Promise.all([printableRuns(fileA), printableRuns(fileB)]);
  const onlyA = [...sa].filter((x) => !sb.has(x)).sort();
  const onlyB = [...sb].filter((x) => !sa.has(x)).sort();
  if (onlyA.length === 0 && onlyB.length === 0) return undefined;
  const classes: DiffClass[] = [];
  for (let i = 0; i < Math.min(64, Math.max(onlyA.length, onlyB.length)); i++)
    classes.push(classifyPair(onlyA[i] ?? '', onlyB[i] ?? '', buildPaths));
  const show = (xs: string[]) =>
    xs
      .slice(0, 5)
      .map((x) => (x.length > 120 ? `${x.slice(0, 120)}…` : x))
      .concat(xs.length > 5 ? [`… ${xs.length - 5} more`] : []);
  const text = [
    `strings only in A (${onlyA.length}):`,
    ...show(onlyA).map((x) => `- ${x}`),
    `strings only in B (${onlyB.length}):`,
    ...show(onlyB).map((x) => `+ ${x}`),
  ].join('\n');
  return { classes, text };
}

async function printableRuns(file: string): Promise<Set<string>> {
  const out = new Set<string>();
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(CHUNK);
    let run = '';
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
      if (bytesRead === 0) break;
      let from = 0;
      for (let i = 0; i <= bytesRead; i++) {
        const c = i < bytesRead ? (buf[i] as number) : -1;
        if (c === 9 || (c >= 0x20 && c < 0x7f)) continue;
        run += buf.toString('latin1', from, i);
        if (i < bytesRead) {
          if (run.length >= STRINGS_MIN && out.size < STRINGS_MAX) out.add(run);
          run = '';
        }
        from = i + 1;
      }
    }
    if (run.length >= STRINGS_MIN && out.size < STRINGS_MAX) out.add(run);
  } finally {
    await fh.close();
  }
  return out;
}

function hexLine(b: Buffer): string {
  return `${b.toString('hex').replace(/(..)/g, '$1 ').trim()}  |${printable(b)}|`;
}

function printable(b: Buffer): string {
  let s = '';
  for (const c of b) s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '.';
  return s;
}

async function readAll(file: string): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}
