// Shared fixtures for this folder's tests (not itself a test file): real
// layer tars made by GNU tar, compressed by gzip and zstd, put into an OCI
// image layout by hand and then copied and converted by skopeo, which
// refuses a malformed layout (so a fixture that gets through is a real one).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await realpath(await mkdtemp(join(tmpdir(), 'vouch-image-')));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export function have(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}

export function run(cmd: string, args: string[], cwd?: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

export interface LayerSpec {
  /** Builds the layer's tree in `dir` (empty when called). */
  build(dir: string): Promise<void>;
  /** tar arguments after `-cf <out> -C <dir>` (default `.`). */
  members?: string[];
  compression: 'gzip' | 'zstd' | 'none';
}

export interface BuiltLayout {
  dir: string;
  tag: string;
  manifestDigest: string;
  configDigest: string;
  /** Paths of the layer blobs, in order. */
  layerBlobs: string[];
}

/**
 * Writes an OCI image layout at `dir` with one linux/amd64 image tagged
 * `tag`, its layers made by GNU tar from `layers`.
 */
export async function writeLayout(
  dir: string,
  tag: string,
  layers: readonly LayerSpec[],
): Promise<BuiltLayout> {
  const blobs = join(dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const put = async (b: Buffer) => {
    const hex = sha256(b);
    await writeFile(join(blobs, hex), b);
    return { hex, size: b.length };
  };
  const diffIds: string[] = [];
  const layerDescs: object[] = [];
  const layerBlobs: string[] = [];
  for (const [i, spec] of layers.entries()) {
    const tree = join(dir, '..', `layer-tree-${tag}-${i}`);
    await rm(tree, { recursive: true, force: true });
    await mkdir(tree, { recursive: true });
    await spec.build(tree);
    const tarPath = `${tree}.tar`;
    // Fixed owner, mtime and order so the layer, and its digest, are reproducible.
    run('tar', [
      '--sort=name',
      '--owner=0',
      '--group=0',
      '--numeric-owner',
      '--mtime=@0',
      '-cf',
      tarPath,
      '-C',
      tree,
      ...(spec.members ?? ['.']),
    ]);
    const tarBytes = await readFile(tarPath);
    diffIds.push(`sha256:${sha256(tarBytes)}`);
    let blob = tarBytes;
    let mediaType = 'application/vnd.oci.image.layer.v1.tar';
    if (spec.compression === 'gzip') {
      blob = execFileSync('gzip', ['-n', '-c', tarPath], { maxBuffer: 1 << 30 });
      mediaType += '+gzip';
    } else if (spec.compression === 'zstd') {
      blob = execFileSync('zstd', ['-q', '-c', tarPath], { maxBuffer: 1 << 30 });
      mediaType += '+zstd';
    }
    const { hex, size } = await put(blob);
    layerBlobs.push(join(blobs, hex));
    layerDescs.push({ mediaType, digest: `sha256:${hex}`, size });
  }
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: layers.map(() => ({ created_by: 'vouch test' })),
    }),
  );
  const c = await put(config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: `sha256:${c.hex}`,
        size: c.size,
      },
      layers: layerDescs,
    }),
  );
  const m = await put(manifest);
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: `sha256:${m.hex}`,
          size: m.size,
          annotations: { 'org.opencontainers.image.ref.name': tag },
        },
      ],
    }),
  );
  return {
    dir,
    tag,
    manifestDigest: `sha256:${m.hex}`,
    configDigest: `sha256:${c.hex}`,
    layerBlobs,
  };
}

/** The machine's own dpkg database and os-release: the image's real package set. */
export async function debianBase(dir: string): Promise<void> {
  await mkdir(join(dir, 'var/lib/dpkg'), { recursive: true });
  await mkdir(join(dir, 'usr/lib'), { recursive: true });
  await mkdir(join(dir, 'etc'), { recursive: true });
  await copyFile('/var/lib/dpkg/status', join(dir, 'var/lib/dpkg/status'));
  await copyFile('/usr/lib/os-release', join(dir, 'usr/lib/os-release'));
  run('ln', ['-s', '../usr/lib/os-release', join(dir, 'etc/os-release')]);
}
