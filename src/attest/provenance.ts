import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import { makeStatement, type Statement, type Subject } from '../core/statement.ts';
import type { AttestOptions } from './attestor.ts';
import { type CiAttestation, ciSourceRef } from './ci.ts';
import type { CommandAttestation } from './command.ts';
import type { EnvironmentAttestation } from './environment.ts';
import type { GitAttestation, GitSubmodule } from './git.ts';
import type { MaterialsAttestation } from './materials.ts';
import {
  type ProvenancePredicate,
  type ResourceDescriptor,
  SLSA_PROVENANCE_V1,
  VOUCH_RUN_BUILD_TYPE,
} from './predicate.ts';

export interface ProvenanceParts {
  workdir: string;
  options: AttestOptions;
  subjects: Subject[];
  command: CommandAttestation;
  materials?: MaterialsAttestation;
  git?: GitAttestation;
  environment?: EnvironmentAttestation;
  ci?: CiAttestation;
}

/**
 * Assembles the SLSA v1 Statement. Every list is sorted and every object is
 * built in a fixed key order, so two runs differ only in times and the
 * invocation id.
 */
export function buildProvenance(p: ProvenanceParts): Statement<ProvenancePredicate> {
  const externalParameters: Record<string, unknown> = {
    command: p.command.argv,
    // The basename, not the absolute path: provenance is published, and the
    // machine's directory layout is nobody's business and varies per runner.
    workdir: basename(p.workdir),
  };
  if (p.options.materials?.length) externalParameters.materials = [...p.options.materials];
  if (p.options.products?.length) externalParameters.products = [...p.options.products];
  if (p.options.images?.length) {
    externalParameters.images = p.options.images.map((i) => `${i.name}@sha256:${i.digest.sha256}`);
  }
  if (p.options.imageDigestFiles?.length) {
    // Subject names only: an absolute path would publish the runner's layout.
    externalParameters.imageDigestFiles = p.options.imageDigestFiles.map((f) => f.name);
  }

  const ci = p.ci ?? {
    platform: 'local' as const,
    builderId: 'https://vouch.dev/builders/local@v1',
  };
  const runUrl = 'runUrl' in ci ? ci.runUrl : undefined;
  const predicate: ProvenancePredicate = {
    buildDefinition: {
      buildType: VOUCH_RUN_BUILD_TYPE,
      externalParameters,
      internalParameters: { env: p.environment?.variables ?? {} },
      resolvedDependencies: [
        ...sourceDependency(p.git, p.ci),
        ...submoduleDependencies(p.git),
        ...fileDependencies(p.materials),
      ],
    },
    runDetails: {
      builder: { id: ci.builderId },
      metadata: {
        invocationId: runUrl ?? `urn:uuid:${randomUUID()}`,
        startedOn: p.command.startedOn,
        finishedOn: p.command.finishedOn,
      },
      byproducts: [
        byproduct('command', p.command),
        ...(p.git ? [byproduct('git', p.git)] : []),
        ...(p.environment ? [byproduct('environment', p.environment)] : []),
        ...(p.ci ? [byproduct('ci', p.ci)] : []),
      ],
    },
  };
  return makeStatement(p.subjects, SLSA_PROVENANCE_V1, predicate);
}

/** An attestor's result as a byproduct: the URI names the attestor and its result schema. */
function byproduct(name: string, result: unknown): ResourceDescriptor {
  return {
    name,
    uri: `https://vouch.dev/attestors/${name}/v1`,
    mediaType: 'application/json',
    annotations: result as Record<string, unknown>,
  };
}

/**
 * The repository at its commit, in SPDX/SLSA `git+<url>@<ref>` form when a
 * remote is known. On a detached HEAD (how GitHub Actions and GitLab runners
 * check out) the ref is the CI's, but only when the CI's commit is HEAD: a
 * ref naming another commit would be a false claim, so it is left out and
 * the reason recorded.
 */
function sourceDependency(
  g: GitAttestation | undefined,
  ci: CiAttestation | undefined,
): ResourceDescriptor[] {
  if (!g?.present || !g.commit) return [];
  const digest = { gitCommit: g.commit };
  const url = g.remote ? gitUri(g.remote.url) : undefined;
  if (!url) return [{ name: 'git', digest }];
  if (g.branch) return [{ uri: `git+${url}@refs/heads/${g.branch}`, digest }];
  const fromCi = ci ? ciSourceRef(ci) : { reason: 'not run in a known CI' };
  if ('reason' in fromCi) {
    return [
      { uri: `git+${url}`, digest, annotations: { refOmitted: `detached HEAD; ${fromCi.reason}` } },
    ];
  }
  if (fromCi.sha.toLowerCase() !== g.commit) {
    return [
      {
        uri: `git+${url}`,
        digest,
        annotations: {
          refOmitted: `detached HEAD; ${fromCi.shaFrom} ${fromCi.sha} is not HEAD, so ${fromCi.from} (${fromCi.ref}) does not name the commit built`,
        },
      },
    ];
  }
  return [{ uri: `git+${url}@${fromCi.ref}`, digest, annotations: { refFrom: fromCi.from } }];
}

/**
 * Each submodule at the commit checked out in its work tree — what the build
 * used — with the commit its parent pins alongside; a submodule not checked
 * out is recorded at the pinned commit with `checkedOut: false`.
 */
function submoduleDependencies(g: GitAttestation | undefined): ResourceDescriptor[] {
  if (!g?.present || !g.submodules) return [];
  const sorted = [...g.submodules].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return sorted.map((s: GitSubmodule) => {
    const url = s.url ? gitUri(s.url) : undefined;
    const rd: ResourceDescriptor = {};
    if (url) rd.uri = `git+${url}${s.branch ? `@refs/heads/${s.branch}` : ''}`;
    rd.digest = { gitCommit: s.commit ?? s.pinned };
    rd.name = s.path;
    rd.annotations = { submodule: s.path, pinnedCommit: s.pinned, checkedOut: s.checkedOut };
    return rd;
  });
}

/** scp-like `git@host:org/x.git` becomes `ssh://git@host/org/x.git`, which is a URI. */
function gitUri(remote: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(remote)) return remote;
  const m = /^(?:([^@/\s]+)@)?([^:/\s]+):(.+)$/.exec(remote);
  if (!m) return undefined;
  return `ssh://${m[1] ? `${m[1]}@` : ''}${m[2]}/${(m[3] as string).replace(/^\/+/, '')}`;
}

function fileDependencies(m: MaterialsAttestation | undefined): ResourceDescriptor[] {
  return (m?.materials ?? []).map((f) => ({ uri: fileUri(f.path), digest: f.digest }));
}

/** `file:` plus the relative path, each segment percent-encoded so spaces and `#` survive. */
export function fileUri(path: string): string {
  return `file:${path.split('/').map(encodeURIComponent).join('/')}`;
}
