import { createHash } from 'node:crypto';
import { basename, resolve } from 'node:path';
import { VouchError } from '../../core/errors.ts';
import { isObject, parseJson } from '../../core/json.ts';
import { statPath } from '../../core/stat.ts';
import type { ContentMatch, Distro, SourceFile } from '../reader.ts';
import { READERS } from '../readers/index.ts';
import { readTar, type TarItem } from '../tar.ts';
import { type FileNode, ImageFs, type LayerChange } from './fs.ts';
import { parseOsRelease } from './os-release.ts';
import { type BlobStore, DirStore, decompress, digestChecked, TarStore } from './store.ts';

export interface ImageLimits {
  /** Sum of all layers' uncompressed tar streams, in bytes (default 8 GiB). */
  maxTotalBytes: number;
  /** Entries over all layers (default 1,000,000). */
  maxEntries: number;
  /** Longest path in a layer (default 4096). */
  maxPathLength: number;
  /**
   * Largest uncompressed/compressed ratio of a layer once it has produced
   * more than `ratioFloorBytes` (default 200; real layers stay well under 20).
   */
  maxRatio: number;
  /** Uncompressed bytes a layer may produce before the ratio is checked (default 64 MiB). */
  ratioFloorBytes: number;
  /** Largest file a reader may read from the image (default 512 MiB). */
  maxFileBytes: number;
  /** Bytes of reader-matched files kept in memory during the layer pass (default 1 GiB). */
  maxCaptureBytes: number;
  /** Largest index, manifest or config JSON (default 4 MiB). */
  maxJsonBytes: number;
}

export const DEFAULT_IMAGE_LIMITS: ImageLimits = {
  maxTotalBytes: 8 * 1024 ** 3,
  maxEntries: 1_000_000,
  maxPathLength: 4096,
  maxRatio: 200,
  ratioFloorBytes: 64 * 1024 ** 2,
  maxFileBytes: 512 * 1024 ** 2,
  maxCaptureBytes: 1024 ** 3,
  maxJsonBytes: 4 * 1024 ** 2,
};

export interface ImageOptions {
  /** `os/arch[/variant]` to pick from a multi-platform index (default linux/amd64). */
  platform?: string;
  /** Tag or ref name to pick when the layout or archive holds several images. */
  ref?: string;
  limits?: Partial<ImageLimits>;
  /**
   * Files whose bytes are kept while each layer is verified, so readers get
   * them without a second pass (default: every path a reader in READERS
   * matches, and os-release). Other files are read on demand by streaming
   * their layer again, verified again.
   */
  capture?: (path: string) => boolean;
  /**
   * Content tests for files `capture` did not take (default: those of the
   * readers in READERS that have one, e.g. Go binaries). Each such file's
   * first bytes are tested while its layer streams past; a file whose head
   * passes is held until its full test has run, and kept when it passes, so
   * an executable anywhere in the image, with or without its exec bit, is
   * offered to its reader. `Image.files()` gives those files a `readAt`.
   */
  content?: readonly ContentMatch[];
  /**
   * Further files whose bytes are kept during the layer pass, besides
   * `capture` (default: the files readers in READERS name as companions,
   * e.g. dpkg's `usr/share/doc/<pkg>/copyright`).
   */
  companions?: (path: string) => boolean;
}

export interface ImageLayer {
  /** Digest of the blob as stored (compressed), `sha256:…`. */
  digest: string;
  /** Digest of the uncompressed tar (the config's diff_id), `sha256:…`. */
  diffId: string;
  mediaType: string;
  size: number;
}

export interface Image {
  /** Ready for `Sbom.subject`. */
  subject: { kind: 'image'; name: string; digest: { sha256: string } };
  /** `sha256:…` of what `digestOf` says. */
  digest: string;
  /**
   * 'manifest': the image manifest's digest (what a registry, `docker pull
   * name@sha256:…` and admission control see). 'config': the config digest
   * (the image ID), the only digest a legacy `docker save` archive has.
   */
  digestOf: 'manifest' | 'config';
  /** The index the manifest was picked from, when it was a multi-platform one. */
  indexDigest?: string;
  platform?: { os: string; architecture: string; variant?: string };
  /** From the merged tree's os-release. */
  distro?: Distro;
  layers: ImageLayer[];
  /** Every regular file of the merged tree, sorted by path, ready for the readers. */
  files(): SourceFile[];
  /** Reads a file of the merged tree (symlinks followed inside the image); undefined when absent. */
  readFile(path: string): Promise<Buffer | undefined>;
}

interface Descriptor {
  mediaType: string;
  digest: string;
  hex: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
  annotations: Record<string, string>;
}

const MT = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
};

const LAYER_TYPES = new Set([
  'application/vnd.oci.image.layer.v1.tar',
  'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd',
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  'application/vnd.docker.image.rootfs.diff.tar',
  'application/vnd.docker.image.rootfs.diff.tar.gzip',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
]);

interface Plan {
  name: string;
  digest: string;
  digestOf: 'manifest' | 'config';
  indexDigest?: string;
  platform?: Image['platform'];
  layers: Array<{
    path: string;
    mediaType: string;
    /** Expected digest and size of the stored bytes, when the format records them. */
    raw?: { sha256: string; size?: number };
    diffId: string;
  }>;
}

/**
 * Opens a container image without a daemon: an OCI image layout directory,
 * an OCI archive (a tar of one), or a `docker save` archive (or its
 * extracted directory). Picks the manifest (`platform`, `ref`), verifies
 * every blob it reads against its digest — index, manifest, config, each
 * layer's stored bytes and uncompressed diff_id — and applies the layers in
 * order, in memory, with whiteouts, hard links and symlinks resolved inside
 * the image root. Fails closed: any mismatch is an error, never a warning.
 *
 * @throws VouchError FILE_NOT_FOUND | FILE_READ | IMAGE_MALFORMED | IMAGE_UNSUPPORTED |
 *   IMAGE_DIGEST_MISMATCH | IMAGE_PLATFORM_NOT_FOUND | ARCHIVE_MALFORMED |
 *   ARCHIVE_UNSAFE | ARCHIVE_TOO_LARGE | JSON_*
 */
export async function openImage(path: string, options: ImageOptions = {}): Promise<Image> {
  const limits = { ...DEFAULT_IMAGE_LIMITS, ...options.limits };
  const abs = resolve(path);
  const st = await statPath(abs, path);
  const store: BlobStore = st.isDirectory()
    ? new DirStore(abs, path)
    : await TarStore.index(abs, path, { maxPathLength: limits.maxPathLength });
  const fallbackName = basename(abs).replace(/\.(tar|tar\.gz|tgz|tar\.zst|oci)$/, '');
  let plan: Plan;
  if ((await store.has('oci-layout')) && (await store.has('index.json'))) {
    plan = await planOci(store, options, limits, fallbackName);
  } else if (await store.has('manifest.json')) {
    plan = await planDockerArchive(store, options, limits, fallbackName);
  } else {
    throw new VouchError(
      'IMAGE_MALFORMED',
      'not an OCI image layout (no oci-layout and index.json) nor a docker save archive (no manifest.json)',
      { file: path },
    );
  }
  const content = options.content ?? READERS.flatMap((r) => (r.content ? [r.content] : []));
  const capture = options.capture ?? defaultCapture;
  const companions = options.companions ?? defaultCompanions;
  return new LoadedImage(store, plan, limits, (p) => capture(p) || companions(p), content).load();
}

const OS_RELEASE = ['etc/os-release', 'usr/lib/os-release'];

function defaultCompanions(path: string): boolean {
  return READERS.some((r) => r.companions?.(path) === true);
}

function defaultCapture(path: string): boolean {
  return OS_RELEASE.includes(path) || READERS.some((r) => r.matches(path));
}

class LoadedImage {
  readonly #store: BlobStore;
  readonly #plan: Plan;
  readonly #limits: ImageLimits;
  readonly #capture: (path: string) => boolean;
  readonly #content: readonly ContentMatch[];
  readonly #fs: ImageFs;
  #totalBytes = 0;
  #captured = 0;

  constructor(
    store: BlobStore,
    plan: Plan,
    limits: ImageLimits,
    capture: (p: string) => boolean,
    content: readonly ContentMatch[],
  ) {
    this.#content = content;
    this.#store = store;
    this.#plan = plan;
    this.#limits = limits;
    this.#capture = capture;
    this.#fs = new ImageFs(limits.maxEntries);
  }

  async load(): Promise<Image> {
    for (const [i, layer] of this.#plan.layers.entries()) {
      const changes: LayerChange[] = [];
      await this.#walkLayer(i, async (item) => {
        const e = item.entry;
        const change: LayerChange = { entry: e };
        if (
          e.type === 'file' &&
          e.size <= this.#limits.maxFileBytes &&
          this.#captured + e.size <= this.#limits.maxCaptureBytes &&
          this.#capture(e.path)
        ) {
          change.data = await item.read(this.#limits.maxFileBytes);
          this.#captured += e.size;
        } else if (e.type === 'file') {
          await this.#byContent(item, change);
        }
        changes.push(change);
      });
      this.#fs.apply(i, changes, `${this.#store.name}: layer ${layer.diffId}`);
    }
    let distro: Distro | undefined;
    for (const p of OS_RELEASE) {
      const bytes = await this.readFile(p);
      if (bytes) {
        distro = parseOsRelease(bytes.toString('utf8'));
        break;
      }
    }
    const plan = this.#plan;
    const image: Image = {
      subject: { kind: 'image', name: plan.name, digest: { sha256: plan.digest.slice(7) } },
      digest: plan.digest,
      digestOf: plan.digestOf,
      layers: plan.layers.map((l) => ({
        digest: l.raw ? `sha256:${l.raw.sha256}` : l.diffId,
        diffId: l.diffId,
        mediaType: l.mediaType,
        size: l.raw?.size ?? 0,
      })),
      files: () =>
        [...this.#fs.files()].map(({ path, node }) => this.#sourceFile(path, node, distro)),
      readFile: (p) => this.readFile(p),
    };
    if (plan.indexDigest) image.indexDigest = plan.indexDigest;
    if (plan.platform) image.platform = plan.platform;
    if (distro) image.distro = distro;
    return image;
  }

  /**
   * Tests a file no path capture took against the content matchers as it
   * streams: the head first (the rest is skipped when no head test passes),
   * then the whole body is held for the full test. Kept (within the capture
   * budget; else re-read on demand) only when a full test passes.
   */
  async #byContent(item: TarItem, change: LayerChange): Promise<void> {
    const e = item.entry;
    if (this.#content.length === 0 || e.size === 0 || e.size > this.#limits.maxFileBytes) return;
    const headBytes = Math.max(...this.#content.map((c) => c.headBytes));
    const chunks: Buffer[] = [];
    let have = 0;
    let candidates: readonly ContentMatch[] | undefined;
    for await (const chunk of item.body()) {
      chunks.push(chunk);
      have += chunk.length;
      if (!candidates && (have >= headBytes || have >= e.size)) {
        const head = Buffer.concat(chunks).subarray(0, headBytes);
        candidates = this.#content.filter((c) => c.head(head.subarray(0, c.headBytes)));
        if (candidates.length === 0) return; // the rest of the body is skipped
      }
    }
    if (!candidates) return;
    const data = Buffer.concat(chunks, have);
    const file = {
      path: e.path,
      bytes: async () => data,
      sibling: async () => undefined,
      readAt: async (offset: number, length: number) => data.subarray(offset, offset + length),
    };
    for (const c of candidates) {
      if (await c.matches(file)) {
        change.byContent = true;
        if (this.#captured + e.size <= this.#limits.maxCaptureBytes) {
          change.data = data;
          this.#captured += e.size;
        }
        return;
      }
    }
  }

  async readFile(path: string): Promise<Buffer | undefined> {
    const found = this.#fs.lookup(path, true, this.#store.name);
    if (found?.node.kind !== 'file') return undefined;
    return this.#bytes(found.node, found.path);
  }

  #sourceFile(path: string, node: FileNode, distro: Distro | undefined): SourceFile {
    const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
    return {
      path,
      bytes: () => this.#bytes(node, path),
      sibling: async (name) => {
        if (name === '' || name === '.' || name === '..' || name.includes('/')) return undefined;
        return this.readFile(dir ? `${dir}/${name}` : name);
      },
      context: distro ? { distro } : {},
      origin: `layer ${node.layer} (${this.#plan.layers[node.layer]?.diffId})`,
      treeFile: async (p, maxBytes) => {
        const found = this.#fs.lookup(p, true, this.#store.name);
        if (found?.node.kind !== 'file') return undefined;
        if (found.node.size > maxBytes) {
          throw new VouchError(
            'ARCHIVE_TOO_LARGE',
            `${found.path} is ${found.node.size} bytes, over the limit of ${maxBytes}`,
            { file: this.#store.name },
          );
        }
        return this.#bytes(found.node, found.path);
      },
      // Ranged reads only for files found by content: for any other file a
      // read would stream its layer again.
      ...(node.byContent
        ? {
            readAt: async (offset: number, length: number) =>
              (await this.#bytes(node, path)).subarray(offset, offset + length),
          }
        : {}),
    };
  }

  async #bytes(node: FileNode, path: string): Promise<Buffer> {
    if (node.data) return node.data;
    if (node.size > this.#limits.maxFileBytes) {
      throw new VouchError(
        'ARCHIVE_TOO_LARGE',
        `${path} is ${node.size} bytes, over the limit of ${this.#limits.maxFileBytes}`,
        { file: this.#store.name },
      );
    }
    let data: Buffer | undefined;
    // Re-streamed and re-verified: bytes that were never checked are never returned.
    await this.#walkLayer(node.layer, async (item) => {
      if (item.entry.index === node.entry) data = await item.read(this.#limits.maxFileBytes);
    });
    if (!data) {
      throw new VouchError('IMAGE_MALFORMED', `entry for ${path} vanished from its layer`, {
        file: this.#store.name,
      });
    }
    return data;
  }

  /**
   * Streams one layer: stored bytes checked against the manifest digest,
   * decompressed, bounded (total size and ratio), checked against the
   * diff_id, parsed as tar. Only returns once both digests matched.
   */
  async #walkLayer(index: number, visit: (item: TarItem) => Promise<void>): Promise<void> {
    const layer = this.#plan.layers[index] as Plan['layers'][number];
    const name = this.#store.name;
    const what = `layer ${index} (${layer.path})`;
    const raw = layer.raw
      ? digestChecked(this.#store.open(layer.path), layer.raw, `${what} blob`, name)
      : counting(this.#store.open(layer.path));
    const limits = this.#limits;
    let out = 0;
    const self = this;
    const bounded = (async function* () {
      for await (const c of decompress(raw, name)) {
        out += c.length;
        self.#totalBytes += c.length;
        if (self.#totalBytes > limits.maxTotalBytes) {
          throw new VouchError(
            'ARCHIVE_TOO_LARGE',
            `image layers uncompress to more than ${limits.maxTotalBytes} bytes`,
            { file: name, field: what },
          );
        }
        if (out > limits.ratioFloorBytes && out > limits.maxRatio * Math.max(raw.bytes, 1)) {
          throw new VouchError(
            'ARCHIVE_TOO_LARGE',
            `${what} decompresses more than ${limits.maxRatio}:1 (a decompression bomb?)`,
            { file: name },
          );
        }
        yield c;
      }
    })();
    const diff = digestChecked(
      bounded,
      { sha256: layer.diffId.slice(7) },
      `${what} uncompressed (diff_id)`,
      name,
    );
    for await (const item of readTar(diff, {
      name: `${name}: ${what}`,
      limits: { maxPathLength: limits.maxPathLength, maxEntries: limits.maxEntries },
    })) {
      await visit(item);
    }
    if (!diff.ok || (layer.raw && !raw.ok)) {
      throw new VouchError('IMAGE_MALFORMED', `${what} was not read to its end`, { file: name });
    }
  }
}

function counting(source: AsyncIterable<Buffer>): AsyncIterable<Buffer> & {
  ok: boolean;
  bytes: number;
} {
  const state = {
    ok: true,
    bytes: 0,
    async *[Symbol.asyncIterator]() {
      for await (const c of source) {
        state.bytes += c.length;
        yield c;
      }
    },
  };
  return state;
}

// ---------------------------------------------------------------- OCI layout

async function planOci(
  store: BlobStore,
  options: ImageOptions,
  limits: ImageLimits,
  fallbackName: string,
): Promise<Plan> {
  const layout = json(store, await store.readAll('oci-layout', limits.maxJsonBytes), 'oci-layout');
  if (!isObject(layout) || typeof layout.imageLayoutVersion !== 'string') {
    throw new VouchError('IMAGE_MALFORMED', 'oci-layout has no imageLayoutVersion', {
      file: store.name,
    });
  }
  const index = json(store, await store.readAll('index.json', limits.maxJsonBytes), 'index.json');
  interface Candidate {
    desc: Descriptor;
    ref?: string;
    indexDigest?: string;
  }
  const candidates: Candidate[] = [];
  const collect = async (
    doc: unknown,
    where: string,
    depth: number,
    ref: string | undefined,
    indexDigest: string | undefined,
  ) => {
    if (!isObject(doc) || !Array.isArray(doc.manifests)) {
      throw new VouchError('IMAGE_MALFORMED', `${where} has no manifests array`, {
        file: store.name,
      });
    }
    for (const [i, d] of doc.manifests.entries()) {
      const desc = descriptor(d, `${where} manifests[${i}]`, store.name);
      const name =
        ref ??
        desc.annotations['io.containerd.image.name'] ??
        desc.annotations['org.opencontainers.image.ref.name'];
      if (desc.mediaType === MT.ociIndex || desc.mediaType === MT.dockerList) {
        if (depth >= 4) {
          throw new VouchError('IMAGE_MALFORMED', 'image indexes nested more than 4 deep', {
            file: store.name,
          });
        }
        const sub = await readBlobJson(store, desc, limits);
        await collect(sub, `index ${desc.digest}`, depth + 1, name, desc.digest);
      } else if (desc.mediaType === MT.ociManifest || desc.mediaType === MT.dockerManifest) {
        if (desc.annotations['vnd.docker.reference.type'] === 'attestation-manifest') continue;
        const c: Candidate = { desc };
        if (name) c.ref = name;
        if (indexDigest) c.indexDigest = indexDigest;
        candidates.push(c);
      }
      // Anything else (artifacts, signatures) is not an image.
    }
  };
  await collect(index, 'index.json', 0, undefined, undefined);

  let pool = candidates;
  if (options.ref) {
    const want = options.ref;
    pool = pool.filter(
      (c) => c.ref !== undefined && (c.ref === want || c.ref.endsWith(`:${want}`)),
    );
    if (pool.length === 0) {
      throw new VouchError(
        'IMAGE_PLATFORM_NOT_FOUND',
        `no image named ${JSON.stringify(want)} (has: ${listRefs(candidates)})`,
        { file: store.name },
      );
    }
  }
  if (pool.length === 0) {
    throw new VouchError('IMAGE_MALFORMED', 'index.json lists no image manifest', {
      file: store.name,
    });
  }
  const wanted = parsePlatform(options.platform ?? 'linux/amd64', store.name);
  const configs = new Map<string, { manifest: Record<string, unknown>; config: unknown }>();
  const loadManifest = async (desc: Descriptor) => {
    let got = configs.get(desc.digest);
    if (!got) {
      const manifest = await readBlobJson(store, desc, limits);
      if (!isObject(manifest)) {
        throw new VouchError('IMAGE_MALFORMED', `manifest ${desc.digest} is not an object`, {
          file: store.name,
        });
      }
      const configDesc = descriptor(manifest.config, `manifest ${desc.digest} config`, store.name);
      got = { manifest, config: await readBlobJson(store, configDesc, limits) };
      configs.set(desc.digest, got);
    }
    return got;
  };
  const platformOf = async (c: Candidate) =>
    c.desc.platform ?? configPlatform((await loadManifest(c.desc)).config);
  let chosen: Candidate;
  if (pool.length === 1 && options.platform === undefined) {
    chosen = pool[0] as Candidate;
  } else {
    const matching: Candidate[] = [];
    for (const c of pool) if (platformMatches(await platformOf(c), wanted)) matching.push(c);
    const digests = new Set(matching.map((c) => c.desc.digest));
    if (digests.size !== 1) {
      const have: string[] = [];
      for (const c of pool) have.push(`${formatPlatform(await platformOf(c))} ${c.desc.digest}`);
      throw new VouchError(
        'IMAGE_PLATFORM_NOT_FOUND',
        digests.size === 0
          ? `no manifest for platform ${formatPlatform(wanted)} (has: ${have.join(', ')})`
          : `several images match ${formatPlatform(wanted)}; pick one with a ref (has: ${listRefs(matching)})`,
        { file: store.name },
      );
    }
    chosen = matching[0] as Candidate;
  }
  const { manifest, config } = await loadManifest(chosen.desc);
  if (manifest.schemaVersion !== 2 || !Array.isArray(manifest.layers)) {
    throw new VouchError('IMAGE_MALFORMED', `manifest ${chosen.desc.digest} is not schema 2`, {
      file: store.name,
    });
  }
  const diffIds = configDiffIds(config, store.name);
  if (diffIds.length !== manifest.layers.length) {
    throw new VouchError(
      'IMAGE_MALFORMED',
      `manifest has ${manifest.layers.length} layers but its config has ${diffIds.length} diff_ids`,
      { file: store.name },
    );
  }
  const layers = manifest.layers.map((l, i) => {
    const d = descriptor(l, `manifest layers[${i}]`, store.name);
    if (!LAYER_TYPES.has(d.mediaType)) {
      throw new VouchError(
        'IMAGE_UNSUPPORTED',
        `layer media type ${d.mediaType} is not supported`,
        {
          file: store.name,
          field: `layers[${i}]`,
        },
      );
    }
    return {
      path: `blobs/sha256/${d.hex}`,
      mediaType: d.mediaType,
      raw: { sha256: d.hex, size: d.size },
      diffId: diffIds[i] as string,
    };
  });
  const plan: Plan = {
    name: chosen.ref ?? fallbackName,
    digest: chosen.desc.digest,
    digestOf: 'manifest',
    layers,
  };
  if (chosen.indexDigest) plan.indexDigest = chosen.indexDigest;
  const platform = chosen.desc.platform ?? configPlatform(config);
  if (platform) plan.platform = platform;
  return plan;
}

// --------------------------------------------------------- docker save archive

async function planDockerArchive(
  store: BlobStore,
  options: ImageOptions,
  limits: ImageLimits,
  fallbackName: string,
): Promise<Plan> {
  const doc = json(
    store,
    await store.readAll('manifest.json', limits.maxJsonBytes),
    'manifest.json',
  );
  if (!Array.isArray(doc) || doc.length === 0 || !doc.every(isObject)) {
    throw new VouchError('IMAGE_MALFORMED', 'manifest.json is not a non-empty array of images', {
      file: store.name,
    });
  }
  const tagsOf = (e: Record<string, unknown>) =>
    Array.isArray(e.RepoTags) ? e.RepoTags.filter((t): t is string => typeof t === 'string') : [];
  let entries = doc as Record<string, unknown>[];
  if (options.ref) {
    const want = options.ref;
    entries = entries.filter((e) => tagsOf(e).some((t) => t === want || t.endsWith(`:${want}`)));
  }
  if (entries.length !== 1) {
    const have = doc.map((e) => tagsOf(e as Record<string, unknown>).join(' ') || '(untagged)');
    throw new VouchError(
      'IMAGE_PLATFORM_NOT_FOUND',
      entries.length === 0
        ? `no image named ${JSON.stringify(options.ref)} (has: ${have.join(', ')})`
        : `archive holds ${entries.length} images; pick one with a ref (has: ${have.join(', ')})`,
      { file: store.name },
    );
  }
  const entry = entries[0] as Record<string, unknown>;
  if (typeof entry.Config !== 'string' || !Array.isArray(entry.Layers)) {
    throw new VouchError('IMAGE_MALFORMED', 'manifest.json entry has no Config or Layers', {
      file: store.name,
    });
  }
  // The config is named by its digest; that name is the only anchor a legacy archive has.
  const configHex = digestInName(entry.Config);
  if (!configHex) {
    throw new VouchError(
      'IMAGE_MALFORMED',
      `config ${entry.Config} is not named by its digest, so it cannot be verified`,
      { file: store.name },
    );
  }
  const configBytes = await store.readAll(entry.Config, limits.maxJsonBytes);
  const gotHex = createHash('sha256').update(configBytes).digest('hex');
  if (gotHex !== configHex) {
    throw new VouchError(
      'IMAGE_DIGEST_MISMATCH',
      `config ${entry.Config} has sha256:${gotHex}, expected sha256:${configHex}`,
      { file: store.name },
    );
  }
  const config = json(store, configBytes, entry.Config);
  const diffIds = configDiffIds(config, store.name);
  if (diffIds.length !== entry.Layers.length) {
    throw new VouchError(
      'IMAGE_MALFORMED',
      `manifest.json lists ${entry.Layers.length} layers but the config has ${diffIds.length} diff_ids`,
      { file: store.name },
    );
  }
  const layers = entry.Layers.map((p, i) => {
    if (typeof p !== 'string') {
      throw new VouchError('IMAGE_MALFORMED', `Layers[${i}] is not a path`, { file: store.name });
    }
    const hex = digestInName(p);
    const l: Plan['layers'][number] = {
      path: p,
      mediaType: 'application/vnd.docker.image.rootfs.diff.tar',
      diffId: diffIds[i] as string,
    };
    // Layers named blobs/sha256/<hex> (docker ≥ 25) are checked as stored too.
    if (hex && p.startsWith('blobs/')) l.raw = { sha256: hex };
    return l;
  });
  const tags = tagsOf(entry);
  const plan: Plan = {
    name: tags[0] ?? fallbackName,
    digest: `sha256:${configHex}`,
    digestOf: 'config',
    layers,
  };
  const platform = configPlatform(config);
  if (platform) plan.platform = platform;
  if (options.platform && !platformMatches(platform, parsePlatform(options.platform, store.name))) {
    throw new VouchError(
      'IMAGE_PLATFORM_NOT_FOUND',
      `the archive's image is ${formatPlatform(platform)}, not ${options.platform}`,
      { file: store.name },
    );
  }
  return plan;
}

// ------------------------------------------------------------------- helpers

function json(store: BlobStore, bytes: Buffer, what: string): unknown {
  return parseJson(bytes.toString('utf8'), `${store.name}: ${what}`);
}

async function readBlobJson(
  store: BlobStore,
  desc: Descriptor,
  limits: ImageLimits,
): Promise<unknown> {
  if (desc.size > limits.maxJsonBytes) {
    throw new VouchError('ARCHIVE_TOO_LARGE', `${desc.digest} is ${desc.size} bytes of JSON`, {
      file: store.name,
    });
  }
  const path = `blobs/sha256/${desc.hex}`;
  const bytes = await store.readAll(path, limits.maxJsonBytes);
  const got = createHash('sha256').update(bytes).digest('hex');
  if (got !== desc.hex || bytes.length !== desc.size) {
    throw new VouchError(
      'IMAGE_DIGEST_MISMATCH',
      `${path} has sha256:${got} (${bytes.length} bytes), expected ${desc.digest} (${desc.size} bytes)`,
      { file: store.name },
    );
  }
  return json(store, bytes, path);
}

function descriptor(v: unknown, where: string, file: string): Descriptor {
  const bad = (m: string): never => {
    throw new VouchError('IMAGE_MALFORMED', `${where}: ${m}`, { file });
  };
  if (!isObject(v)) return bad('not a descriptor object');
  if (typeof v.mediaType !== 'string') bad('no mediaType');
  if (typeof v.digest !== 'string') bad('no digest');
  const m = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/.exec(v.digest as string);
  if (!m) bad(`malformed digest ${JSON.stringify(v.digest)}`);
  if (m?.[1] !== 'sha256') {
    throw new VouchError(
      'IMAGE_UNSUPPORTED',
      `${where}: digest algorithm ${m?.[1]} not supported`,
      {
        file,
      },
    );
  }
  if (!/^[0-9a-f]{64}$/.test(m[2] as string)) bad(`malformed sha256 ${JSON.stringify(v.digest)}`);
  if (typeof v.size !== 'number' || !Number.isSafeInteger(v.size) || v.size < 0) bad('bad size');
  const d: Descriptor = {
    mediaType: v.mediaType as string,
    digest: v.digest as string,
    hex: m[2] as string,
    size: v.size as number,
    annotations: {},
  };
  if (isObject(v.annotations)) {
    for (const [k, a] of Object.entries(v.annotations))
      if (typeof a === 'string') d.annotations[k] = a;
  }
  const p = v.platform;
  if (isObject(p) && typeof p.os === 'string' && typeof p.architecture === 'string') {
    d.platform = { os: p.os, architecture: p.architecture };
    if (typeof p.variant === 'string') d.platform.variant = p.variant;
  }
  return d;
}

function configPlatform(config: unknown): Image['platform'] | undefined {
  if (!isObject(config) || typeof config.os !== 'string' || typeof config.architecture !== 'string')
    return undefined;
  const p: NonNullable<Image['platform']> = { os: config.os, architecture: config.architecture };
  if (typeof config.variant === 'string') p.variant = config.variant;
  return p;
}

function configDiffIds(config: unknown, file: string): string[] {
  const rootfs = isObject(config) ? config.rootfs : undefined;
  const ids = isObject(rootfs) ? rootfs.diff_ids : undefined;
  if (
    !Array.isArray(ids) ||
    !ids.every((x) => typeof x === 'string' && /^sha256:[0-9a-f]{64}$/.test(x))
  ) {
    throw new VouchError('IMAGE_MALFORMED', 'config has no rootfs.diff_ids of sha256 digests', {
      file,
    });
  }
  return ids as string[];
}

function digestInName(p: string): string | undefined {
  return /^(?:blobs\/sha256\/)?([0-9a-f]{64})(?:\.json|\.tar|\/layer\.tar)?$/.exec(p)?.[1];
}

function parsePlatform(text: string, file: string): NonNullable<Image['platform']> {
  const parts = text.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) {
    throw new VouchError(
      'USAGE',
      `platform must be os/arch[/variant], got ${JSON.stringify(text)}`,
      {
        file,
      },
    );
  }
  const p: NonNullable<Image['platform']> = {
    os: parts[0] as string,
    architecture: parts[1] as string,
  };
  if (parts[2]) p.variant = parts[2];
  return p;
}

function platformMatches(
  have: Image['platform'] | undefined,
  want: NonNullable<Image['platform']>,
): boolean {
  if (!have) return false;
  if (have.os !== want.os || have.architecture !== want.architecture) return false;
  if (!want.variant) return true;
  // arm64 images often leave out the only variant there is.
  const v = have.variant ?? (have.architecture === 'arm64' ? 'v8' : undefined);
  return v === want.variant;
}

function formatPlatform(p: Image['platform'] | undefined): string {
  if (!p) return 'unknown';
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

function listRefs(cs: ReadonlyArray<{ ref?: string; desc: Descriptor }>): string {
  return cs.map((c) => c.ref ?? c.desc.digest).join(', ') || 'none';
}
