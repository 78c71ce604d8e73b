import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { compareCodePoints } from '../../core/digest.ts';
import { errorMessage, VouchError } from '../../core/errors.ts';
import { CONTAINERS, type Container, type MemberMeta, type Node } from './containers/index.ts';
import { compareLeaf } from './content.ts';
import {
  type Codec,
  type DiffContext,
  decoded,
  decodedHead,
  detectCodec,
  type GzipHeader,
  parseGzipHeader,
  readHead,
} from './source.ts';
import {
  DEFAULT_DIFF_LIMITS,
  type DiffClass,
  type Difference,
  type DiffLimits,
  type DiffResult,
  HINTS,
} from './types.ts';

export interface DiffOptions {
  limits?: Partial<DiffLimits>;
  /** Absolute build directories to recognise when they leak into outputs. */
  buildPaths?: readonly string[];
  /** The root of every nested path (default: A's base name). */
  name?: string;
  /**
   * The root of B's paths in error messages only (default: B's base name, or
   * B's path as given when its base name is the root of the logical paths).
   */
  nameB?: string;
}

/**
 * Compares two files (or directories) structurally: archives are listed,
 * not extracted; only members whose bytes differ are copied, under numbered
 * names, into a private temp dir that is removed afterwards, and compared
 * in turn. Member metadata is compared apart from content.
 *
 * @throws VouchError FILE_NOT_FOUND | FILE_READ | ARCHIVE_MALFORMED | ARCHIVE_UNSAFE |
 *   ARCHIVE_TOO_LARGE | ARCHIVE_TOO_DEEP | PATH_ESCAPE
 */
export async function diffFiles(
  a: string,
  b: string,
  options: DiffOptions = {},
): Promise<DiffResult> {
  const limits = { ...DEFAULT_DIFF_LIMITS, ...options.limits };
  const [sa, sb] = await Promise.all([statOf(a), statOf(b)]);
  const tmp = await mkdtemp(join(tmpdir(), 'vouch-repro-diff-'));
  const ctx: DiffContext = {
    limits,
    budget: { decompressed: limits.maxDecompressed, spill: limits.maxSpill },
    tmp,
    next: { n: 0 },
  };
  const differ = new Differ(ctx, options.buildPaths ?? []);
  try {
    const name = options.name ?? (basename(a) || a);
    // Differences are named by one logical path rooted at A's name; an error
    // while reading B names B's own file and the path inside it.
    const nameB = options.nameB ?? (basename(b) && basename(b) !== name ? basename(b) : b);
    const differences = await differ.node(a, b, sa.isDirectory(), sb.isDirectory(), name, 0, nameB);
    differences.sort(
      (x, y) =>
        compareCodePoints(x.path, y.path) ||
        compareCodePoints(x.kind, y.kind) ||
        compareCodePoints(x.field ?? '', y.field ?? ''),
    );
    return { identical: differences.length === 0, a, b, differences };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function statOf(path: string) {
  try {
    return await stat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new VouchError('FILE_NOT_FOUND', 'no such file', { file: path });
    throw new VouchError('FILE_READ', `cannot read: ${errorMessage(e)}`, { file: path, cause: e });
  }
}

interface Listed {
  meta: MemberMeta;
  sha256?: string;
}

const HEAD = 1024;

class Differ {
  readonly ctx: DiffContext;
  readonly buildPaths: readonly string[];

  constructor(ctx: DiffContext, buildPaths: readonly string[]) {
    this.ctx = ctx;
    this.buildPaths = buildPaths;
  }

  async node(
    a: string,
    b: string,
    dirA: boolean,
    dirB: boolean,
    path: string,
    depth: number,
    /** Where B is, for errors: B's own file and the path inside it (`path` names A). */
    pathB: string,
  ): Promise<Difference[]> {
    if (depth > this.ctx.limits.maxDepth) {
      throw new VouchError(
        'ARCHIVE_TOO_DEEP',
        `archives nested more than ${this.ctx.limits.maxDepth} deep`,
        { file: path },
      );
    }
    if (!dirA && !dirB && (await sameBytes(a, b))) return [];
    const na = await this.describe(a, dirA, path);
    const nb = await this.describe(b, dirB, pathB);
    const out: Difference[] = [];
    if (na.codec !== nb.codec) {
      out.push(
        diff(path, 'content', 'unknown', {
          detail: `${na.codec ?? 'not compressed'} vs ${nb.codec ?? 'not compressed'}`,
        }),
      );
      return out;
    }
    if (na.codec === 'gzip') out.push(...(await this.gzipHeaders(na, nb, path)));
    const ca = CONTAINERS.find((c) => c.detect(na));
    const cb = CONTAINERS.find((c) => c.detect(nb));
    let inner: Difference[];
    if (ca && cb && ca === cb) inner = await this.container(ca, na, nb, path, depth);
    else if (ca !== cb) {
      inner = [
        diff(path, 'content', 'unknown', {
          detail: `a ${ca?.format ?? 'plain file'} vs a ${cb?.format ?? 'plain file'}`,
        }),
      ];
    } else if (na.codec && nb.codec) {
      // A compressed plain file: compare what is inside (which may be compressed again).
      const [fa, fb] = await Promise.all([
        this.spill(decoded(na.file, na.codec, this.ctx, path), path),
        this.spill(decoded(nb.file, nb.codec, this.ctx, pathB), pathB),
      ]);
      inner = await this.node(fa, fb, false, false, path, depth + 1, pathB);
    } else inner = await this.leaf(na, nb, path);
    out.push(...inner);
    if (inner.length === 0 && out.length === 0 && !dirA) {
      // Same members, same metadata, same bytes inside, yet the files differ.
      out.push(
        na.codec
          ? diff(path, 'compression', 'compression-level', {
              detail: `the same content compressed to different ${na.codec} bytes`,
            })
          : diff(path, 'content', 'unknown', {
              detail:
                'the archives differ outside any member (padding, end-of-archive blocks, comments)',
            }),
      );
    }
    return out;
  }

  async describe(file: string, isDirectory: boolean, name: string): Promise<Node> {
    if (isDirectory) return { file, name, isDirectory, head: Buffer.alloc(0) };
    const raw = await readHead(file, HEAD);
    const codec = detectCodec(raw);
    if (!codec) return { file, name, isDirectory, head: raw };
    return {
      file,
      name,
      isDirectory,
      codec,
      head: await decodedHead(file, codec, this.ctx, name, HEAD),
    };
  }

  async gzipHeaders(a: Node, b: Node, path: string): Promise<Difference[]> {
    const [ha, hb] = await Promise.all([gzipHeaderOf(a), gzipHeaderOf(b)]);
    const out: Difference[] = [];
    const field = (f: keyof GzipHeader, cls: DiffClass, show = (v: unknown) => String(v)) => {
      if (ha[f] !== hb[f])
        out.push(diff(path, 'header', cls, { field: `gzip.${f}`, a: show(ha[f]), b: show(hb[f]) }));
    };
    field('mtime', 'timestamp', (v) =>
      v === 0 ? '0' : new Date((v as number) * 1000).toISOString(),
    );
    field('name', 'compression-level', (v) => JSON.stringify(v));
    field('comment', 'compression-level', (v) => JSON.stringify(v));
    field('xfl', 'compression-level');
    field('os', 'compression-level');
    for (const d of out)
      d.hint =
        d.class === 'timestamp'
          ? 'gzip -n (no name or time in the header), or set SOURCE_DATE_EPOCH'
          : HINTS['compression-level'];
    return out;
  }

  async leaf(a: Node, b: Node, path: string): Promise<Difference[]> {
    const d = await compareLeaf(a.file, b.file, path, {
      maxTextBytes: this.ctx.limits.maxTextBytes,
      buildPaths: this.buildPaths,
    });
    return d ? [d] : [];
  }

  async list(c: Container, n: Node): Promise<Map<string, Listed>> {
    const out = new Map<string, Listed>();
    for await (const m of c.members(n, this.ctx)) {
      const key = uniqueKey(out, m.meta.path);
      const entry: Listed = { meta: m.meta };
      if (m.meta.type === 'file') {
        const h = createHash('sha256');
        for await (const chunk of m.body()) h.update(chunk);
        entry.sha256 = h.digest('hex');
      }
      out.set(key, entry);
    }
    return out;
  }

  /** Walks both containers together while their member paths agree; undefined as soon as they do not. */
  async lockstep(
    c: Container,
    a: Node,
    b: Node,
  ): Promise<
    { la: Map<string, Listed>; lb: Map<string, Listed>; changed: Set<string> } | undefined
  > {
    const ia = c.members(a, this.ctx)[Symbol.asyncIterator]();
    const ib = c.members(b, this.ctx)[Symbol.asyncIterator]();
    const la = new Map<string, Listed>();
    const lb = new Map<string, Listed>();
    const changed = new Set<string>();
    try {
      for (;;) {
        const [x, y] = await Promise.all([ia.next(), ib.next()]);
        if (x.done || y.done) return x.done && y.done ? { la, lb, changed } : undefined;
        if (x.value.meta.path !== y.value.meta.path) return undefined;
        const key = uniqueKey(la, x.value.meta.path);
        la.set(key, { meta: x.value.meta });
        lb.set(key, { meta: y.value.meta });
        if (x.value.meta.type !== 'file' || y.value.meta.type !== 'file') continue;
        if (
          x.value.meta.size !== y.value.meta.size ||
          !(await sameStreams(x.value.body(), y.value.body()))
        ) {
          changed.add(key);
        }
      }
    } finally {
      await Promise.all([ia.return?.(undefined), ib.return?.(undefined)]);
    }
  }

  async container(
    c: Container,
    a: Node,
    b: Node,
    path: string,
    depth: number,
  ): Promise<Difference[]> {
    // Same members in the same order (the usual case) are compared side by side, bytes against
    // bytes; otherwise each side is listed with a digest per member and the lists compared.
    const lock = await this.lockstep(c, a, b);
    const [la, lb] = lock
      ? [lock.la, lock.lb]
      : await Promise.all([this.list(c, a), this.list(c, b)]);
    const out: Difference[] = [];
    const under = (root: string, key: string) => (key === '' ? `${root}/.` : `${root}/${key}`);
    const at = (key: string) => under(path, key);
    const changed: string[] = [];
    for (const [key, x] of la) {
      const y = lb.get(key);
      if (!y) {
        out.push(
          diff(at(key), 'removed', 'unknown', {
            detail: `only in A (${x.meta.type})`,
            hint: 'a member only one build produces: look at what decides whether it is made',
          }),
        );
        continue;
      }
      out.push(...metadataDiffs(at(key), x.meta, y.meta));
      if (x.meta.type !== 'file' || y.meta.type !== 'file') continue;
      if (lock ? lock.changed.has(key) : x.sha256 !== y.sha256) changed.push(key);
    }
    for (const [key, y] of lb) {
      if (!la.has(key))
        out.push(
          diff(at(key), 'added', 'unknown', {
            detail: `only in B (${y.meta.type})`,
            hint: 'a member only one build produces: look at what decides whether it is made',
          }),
        );
    }
    const order = orderDifference(la, lb);
    if (order) out.push(diff(path, 'order', 'file-order', { detail: order }));
    if (changed.length > 0) {
      const wanted = new Set(changed);
      const [sa, sb] = await Promise.all([
        this.spillMembers(c, a, wanted, la),
        this.spillMembers(c, b, wanted, lb),
      ]);
      for (const key of changed) {
        const fa = sa.get(key);
        const fb = sb.get(key);
        if (!fa || !fb) continue;
        out.push(
          ...(await this.node(fa, fb, false, false, at(key), depth + 1, under(b.name, key))),
        );
      }
    }
    return out;
  }

  async spillMembers(
    c: Container,
    n: Node,
    wanted: Set<string>,
    listed: Map<string, Listed>,
  ): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const direct = [...wanted].map((k) => [k, listed.get(k)?.meta] as const);
    if (direct.every(([, m]) => m?.offset !== undefined)) {
      // Stored as is: read the byte ranges, no second pass over the archive.
      for (const [key, m] of direct) {
        const meta = m as MemberMeta;
        const body =
          meta.size === 0
            ? (async function* () {})()
            : (createReadStream(n.file, {
                start: meta.offset as number,
                end: (meta.offset as number) + meta.size - 1,
              }) as AsyncIterable<Buffer>);
        out.set(key, await this.spill(body, `${n.name}/${key}`));
      }
      return out;
    }
    const seen = new Map<string, Listed>();
    for await (const m of c.members(n, this.ctx)) {
      const key = uniqueKey(seen, m.meta.path);
      seen.set(key, { meta: m.meta });
      if (!wanted.has(key)) continue;
      out.set(key, await this.spill(m.body(), `${n.name}/${key}`));
    }
    return out;
  }

  /** Copies a stream into the private temp dir under a numbered name, within the spill budget. */
  async spill(body: AsyncIterable<Buffer>, name: string): Promise<string> {
    const file = join(this.ctx.tmp, String(this.ctx.next.n++));
    const ctx = this.ctx;
    async function* counted() {
      for await (const chunk of body) {
        ctx.budget.spill -= chunk.length;
        if (ctx.budget.spill < 0) {
          throw new VouchError(
            'ARCHIVE_TOO_LARGE',
            `differing members pass the limit of ${ctx.limits.maxSpill} bytes copied for comparison`,
            { file: name },
          );
        }
        yield chunk;
      }
    }
    await pipeline(Readable.from(counted()), createWriteStream(file, { mode: 0o600, flags: 'wx' }));
    return file;
  }
}

async function gzipHeaderOf(n: Node): Promise<GzipHeader> {
  return parseGzipHeader(await readHead(n.file, 64 * 1024), n.name);
}

/** Whether two byte streams are equal, chunk boundaries notwithstanding; stops at the first difference. */
async function sameStreams(a: AsyncIterable<Buffer>, b: AsyncIterable<Buffer>): Promise<boolean> {
  const ia = a[Symbol.asyncIterator]();
  const ib = b[Symbol.asyncIterator]();
  let ca: Buffer | null = Buffer.alloc(0);
  let cb: Buffer | null = Buffer.alloc(0);
  for (;;) {
    if (ca !== null && ca.length === 0) {
      const r = await ia.next();
      ca = r.done ? null : r.value;
    }
    if (cb !== null && cb.length === 0) {
      const r = await ib.next();
      cb = r.done ? null : r.value;
    }
    if (ca === null || cb === null) return ca === null && cb === null;
    const n = Math.min(ca.length, cb.length);
    if (!ca.subarray(0, n).equals(cb.subarray(0, n))) return false;
    ca = ca.subarray(n);
    cb = cb.subarray(n);
  }
}

const CMP_CHUNK = 1024 * 1024;

/** Like cmp: equal sizes, then chunk by chunk, stopping at the first difference. */
async function sameBytes(a: string, b: string): Promise<boolean> {
  const [sa, sb] = await Promise.all([stat(a), stat(b)]);
  if (sa.size !== sb.size) return false;
  const [fa, fb] = await Promise.all([open(a, 'r'), open(b, 'r')]);
  try {
    const ba = Buffer.allocUnsafe(CMP_CHUNK);
    const bb = Buffer.allocUnsafe(CMP_CHUNK);
    for (let off = 0; off < sa.size; off += CMP_CHUNK) {
      const n = Math.min(CMP_CHUNK, sa.size - off);
      const [ra, rb] = await Promise.all([fa.read(ba, 0, n, off), fb.read(bb, 0, n, off)]);
      if (ra.bytesRead !== n || rb.bytesRead !== n) return false;
      if (!ba.subarray(0, n).equals(bb.subarray(0, n))) return false;
    }
    return true;
  } finally {
    await Promise.all([fa.close(), fb.close()]);
  }
}

function uniqueKey(map: Map<string, unknown>, path: string): string {
  if (!map.has(path)) return path;
  let i = 2;
  while (map.has(`${path}#${i}`)) i++;
  return `${path}#${i}`;
}

function diff(
  path: string,
  kind: Difference['kind'],
  cls: DiffClass,
  extra: Partial<Difference> = {},
): Difference {
  return { path, kind, class: cls, hint: HINTS[cls], ...extra };
}

const TIME_FIELDS = new Set(['mtime', 'extra']);
const OWNER_FIELDS = new Set(['mode', 'uid', 'gid', 'uname', 'gname']);

function metadataDiffs(path: string, x: MemberMeta, y: MemberMeta): Difference[] {
  const out: Difference[] = [];
  for (const f of [
    'type',
    'mode',
    'uid',
    'gid',
    'uname',
    'gname',
    'linkname',
    'mtime',
    'extra',
  ] as const) {
    const va = x[f];
    const vb = y[f];
    if (va === undefined || vb === undefined || va === vb) continue;
    let cls: DiffClass = 'unknown';
    if (TIME_FIELDS.has(f)) cls = 'timestamp';
    else if (OWNER_FIELDS.has(f)) cls = 'permissions-ownership';
    else if (f === 'linkname' && (String(va).startsWith('/') || String(vb).startsWith('/')))
      cls = 'embedded-build-path';
    out.push(diff(path, 'metadata', cls, { field: f, a: show(f, va), b: show(f, vb) }));
  }
  return out;
}

function show(field: string, v: unknown): string {
  if (field === 'mtime' && typeof v === 'number') return new Date(v * 1000).toISOString();
  if (field === 'mode' && typeof v === 'number') return `0${v.toString(8)}`;
  if (field === 'extra' && v === '') return '(none)';
  return String(v);
}

/** Whether the members both sides have come in the same order; if not, the first few that moved. */
function orderDifference(a: Map<string, Listed>, b: Map<string, Listed>): string | undefined {
  const common = [...a.keys()].filter((k) => b.has(k));
  const inB = [...b.keys()].filter((k) => a.has(k));
  if (common.every((k, i) => k === inB[i])) return undefined;
  const moved: string[] = [];
  for (let i = 0; i < common.length && moved.length < 5; i++) {
    if (common[i] !== inB[i]) moved.push(`#${i}: ${common[i]} vs ${inB[i]}`);
  }
  return `members in a different order (${moved.join('; ')})`;
}

export type { Codec };
