import { stat } from 'node:fs/promises';
import { errorMessage, VouchError } from '../../core/errors.ts';
import { DirectoryStore } from '../../store/index.ts';
import type { CandidateBundle } from '../../verify/index.ts';
import { type EvidenceSource, type FetchedEvidence, MAX_CANDIDATES } from './evidence.ts';
import type { ImageReference } from './image.ts';

/**
 * Offline evidence: a directory store filled in CI (`vouch attest`, or an
 * evidence pack unpacked into it), keyed by image digest. No network at
 * admission time; tags cannot be resolved (there is no registry to ask).
 */
export class StoreEvidenceSource implements EvidenceSource {
  readonly description: string;
  readonly #store: DirectoryStore;

  constructor(root: string) {
    this.#store = new DirectoryStore(root);
    this.description = `store:${root}`;
  }

  async resolve(ref: ImageReference): Promise<string> {
    throw new VouchError(
      'OCI_NOT_FOUND',
      `cannot resolve tag ${JSON.stringify(ref.tag)} of ${ref.name}: the offline evidence store has no registry to ask; pin the image by digest`,
    );
  }

  async fetch(_ref: ImageReference, digest: string, signal: AbortSignal): Promise<FetchedEvidence> {
    await this.#present();
    const entries = await this.#store.find(digest);
    const candidates: CandidateBundle[] = [];
    // Newest first when capped: fresh evidence is what a policy's maxAge wants.
    for (const e of entries.slice(-MAX_CANDIDATES).reverse()) {
      signal.throwIfAborted();
      candidates.push({
        source: `store:${e.id.slice(0, 12)}`,
        json: (await this.#store.read(e.id)).toString('utf8'),
      });
    }
    return { digest, candidates };
  }

  /**
   * A store that is not there (volume not mounted, wrong path) cannot answer:
   * the directory store reads a missing root as empty, which would deny as
   * "no evidence" and hide the outage from the evidence-unavailable alerts.
   *
   * @throws VouchError FILE_NOT_FOUND | FILE_READ
   */
  async #present(): Promise<void> {
    const root = this.#store.root;
    let isDir: boolean;
    try {
      isDir = (await stat(root)).isDirectory();
    } catch (e) {
      const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
      throw new VouchError(
        missing ? 'FILE_NOT_FOUND' : 'FILE_READ',
        missing
          ? `evidence store ${root} does not exist`
          : `cannot read evidence store ${root}: ${errorMessage(e)}`,
        { file: root, cause: e },
      );
    }
    if (!isDir)
      throw new VouchError('FILE_READ', `evidence store ${root} is not a directory`, {
        file: root,
      });
  }
}
