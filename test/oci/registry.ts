// Shared fixtures for the OCI tests (not itself a test file): a real
// registry (Debian's docker-registry, distribution 2.8) on a free localhost
// port in a temp dir, stopped by PID; small images built as OCI layouts on
// disk (a tar of a directory as the layer, JSON written by hand) and pushed
// with skopeo, which refuses a malformed layout.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type After = { after: (fn: () => Promise<void> | void) => void };

export function have(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}

/** Why the registry tests cannot run here, or undefined when they can. */
export function registrySkip(): string | undefined {
  for (const tool of ['docker-registry', 'skopeo', 'tar'])
    if (!have(tool)) return `${tool} is not installed (apt-get install docker-registry skopeo)`;
  return undefined;
}

export async function tempDir(t: After): Promise<string> {
  const dir = await realpath(await mkdtemp(join(tmpdir(), 'vouch-oci-')));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface Registry {
  /** `127.0.0.1:PORT` */
  host: string;
  dir: string;
  /** Stops the registry (idempotent); also done after the test. */
  stop(): Promise<void>;
}

/**
 * Starts docker-registry with its storage in a temp dir. `extraConfig` is
 * appended to the YAML config (e.g. an `auth:` section).
 */
export async function startRegistry(t: After, extraConfig = ''): Promise<Registry> {
  const dir = await tempDir(t);
  const port = await freePort();
  const config = join(dir, 'config.yml');
  await writeFile(
    config,
    `version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${dir}/data
http:
  addr: 127.0.0.1:${port}
${extraConfig}`,
  );
  const child: ChildProcess = spawn('docker-registry', ['serve', config], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    log += d;
  });
  let exited = false;
  const gone = new Promise<void>((resolve) =>
    child.on('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const stop = async () => {
    if (!exited && child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
    await gone;
  };
  t.after(stop);
  const host = `127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (exited) throw new Error(`docker-registry exited:\n${log}`);
    try {
      const res = await fetch(`http://${host}/v2/`);
      if (res.status === 200 || res.status === 401) break;
    } catch {
      // not listening yet
    }
    if (i > 200) throw new Error(`docker-registry did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return { host, dir, stop };
}

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

export interface Image {
  /** `sha256:<hex>` of the image manifest. */
  digest: string;
  layout: string;
}

/**
 * Builds an OCI image layout with one uncompressed layer holding
 * `app.txt` = `content` (tar made by GNU tar), and returns its manifest digest.
 */
export async function buildImage(t: After, content: string): Promise<Image> {
  const root = await tempDir(t);
  const tree = join(root, 'tree');
  const layout = join(root, 'layout');
  const blobs = join(layout, 'blobs', 'sha256');
  await mkdir(tree, { recursive: true });
  await mkdir(blobs, { recursive: true });
  await writeFile(join(tree, 'app.txt'), content);
  const layerPath = join(root, 'layer.tar');
  execFileSync('tar', [
    '--sort=name',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '--mtime=@0',
    '-cf',
    layerPath,
    '-C',
    tree,
    '.',
  ]);
  const put = async (b: Buffer) => {
    const hex = sha256(b);
    await writeFile(join(blobs, hex), b);
    return { digest: `sha256:${hex}`, size: b.length };
  };
  const layer = await put(await readFile(layerPath));
  const config = await put(
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Cmd: ['/bin/true'] },
        rootfs: { type: 'layers', diff_ids: [layer.digest] },
      }),
    ),
  );
  const manifest = await put(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
      }),
    ),
  );
  await writeFile(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(
    join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...manifest,
          annotations: { 'org.opencontainers.image.ref.name': 'latest' },
        },
      ],
    }),
  );
  return { digest: manifest.digest, layout };
}

/** `skopeo copy` of the layout to `host/repo:tag` over plain HTTP; returns the image digest. */
export async function pushImage(
  t: After,
  registry: Registry,
  repo: string,
  tag: string,
  content: string,
): Promise<string> {
  const image = await buildImage(t, content);
  execFileSync(
    'skopeo',
    [
      'copy',
      '--quiet',
      '--dest-tls-verify=false',
      '--preserve-digests',
      `oci:${image.layout}:latest`,
      `docker://${registry.host}/${repo}:${tag}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return image.digest;
}
