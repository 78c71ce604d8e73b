import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { VouchError } from '../core/errors.ts';
import type { Subject } from '../core/statement.ts';
import type { AttestationContext, Attestor, SubjectProducer } from './attestor.ts';
import { readImageDigestFile, stampString } from './image-digest.ts';

/**
 * Before the command: the stamp of each `--image-digest-file` that already
 * exists (null when it does not), so the after phase can tell a digest this
 * run wrote from one left over by an earlier build.
 */
export interface ImageDigestStamps {
  /** Keyed by the path as given. */
  stamps: Record<string, string | null>;
}

export interface ImagesAttestation {
  /** Sorted by name, then digest; duplicates removed. */
  images: Array<Subject & { source: 'reference' | 'digest-file' }>;
}

export const imageDigestStampsAttestor: Attestor<ImageDigestStamps> = {
  name: 'image-digest-stamps',
  phase: 'before',
  async attest(ctx) {
    const stamps: Record<string, string | null> = {};
    for (const f of ctx.options.imageDigestFiles ?? []) {
      try {
        stamps[f.path] = stampString(await stat(resolve(ctx.workdir, f.path), { bigint: true }));
      } catch {
        // Absent (or unreadable, which the after phase reports): anything there later is new.
        stamps[f.path] = null;
      }
    }
    return { stamps };
  },
};

/**
 * Image subjects: `--image` references as given, and the digest each
 * `--image-digest-file` holds once the command succeeded (named after the
 * first `image.name` of a buildx metadata file when no NAME was given). A digest file must
 * have been written during the run: a stale one from an earlier build is
 * refused, since the provenance would claim this run built that image.
 */
export const imagesAttestor: Attestor<ImagesAttestation> & SubjectProducer<ImagesAttestation> = {
  name: 'images',
  phase: 'after',
  async attest(ctx) {
    const images: ImagesAttestation['images'] = (ctx.options.images ?? []).map((s) => ({
      name: s.name,
      digest: { ...s.digest },
      source: 'reference' as const,
    }));
    const files = ctx.options.imageDigestFiles ?? [];
    const before = files.length > 0 ? stampsBefore(ctx) : {};
    const failed = ctx.result !== undefined && ctx.result.exitCode !== 0;
    for (const f of files) {
      let read: Awaited<ReturnType<typeof readImageDigestFile>>;
      try {
        read = await readImageDigestFile(resolve(ctx.workdir, f.path), f.path);
      } catch (e) {
        // A failed build (signed with --attest-failure) need not have written its digest.
        if (failed && e instanceof VouchError && e.code === 'FILE_NOT_FOUND') {
          ctx.log(`images: ${f.path} was not written by the failed command`);
          continue;
        }
        throw e;
      }
      const old = before[f.path];
      if (old === undefined) {
        throw new VouchError(
          'USAGE',
          `${f.path}: no stamp taken before the command (add imageDigestStampsAttestor to the attestors)`,
          { file: f.path },
        );
      }
      if (old === read.stamp) {
        throw new VouchError(
          'IMAGE_DIGEST_FILE_STALE',
          'the command did not write this image digest file (unchanged since before it ran): a digest left by an earlier build is not evidence of this one; remove the file before the build or let the build rewrite it',
          { file: f.path },
        );
      }
      // A buildx metadata file names its image; a NAME given on the command line wins.
      const name = !f.named && read.name !== undefined ? read.name : f.name;
      images.push({ name, digest: { sha256: read.sha256 }, source: 'digest-file' });
    }
    if (images.length > 0) ctx.log(`images: ${images.length} image digest(s)`);
    return { images: sortUnique(images) };
  },
  subjects(result) {
    return result.images.map((i) => ({ name: i.name, digest: i.digest }));
  },
};

function stampsBefore(ctx: AttestationContext): Record<string, string | null> {
  const r = ctx.earlier?.[imageDigestStampsAttestor.name] as ImageDigestStamps | undefined;
  return r?.stamps ?? {};
}

function sortUnique(images: ImagesAttestation['images']): ImagesAttestation['images'] {
  const key = (i: Subject) => `${i.name}\0${i.digest.sha256 ?? ''}`;
  const seen = new Map<string, ImagesAttestation['images'][number]>();
  for (const i of images) if (!seen.has(key(i))) seen.set(key(i), i);
  return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, i]) => i);
}
