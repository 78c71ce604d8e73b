import type { DigestSet } from '../core/digest.ts';
import type { Subject } from '../core/statement.ts';
import type { ExecResult } from './exec.ts';
import type { ImageDigestFile } from './image-digest.ts';
import type { TreeSnapshot } from './snapshot.ts';

/**
 * When an attestor runs relative to the wrapped command. Mirrors go-witness:
 * before the command (materials, git, environment, CI context), after it
 * (products, command result).
 */
export type Phase = 'before' | 'after';

/** What every attestor sees. */
export interface AttestationContext {
  /** Absolute working directory of the command. */
  workdir: string;
  /** The wrapped command. */
  argv: string[];
  env: NodeJS.ProcessEnv;
  /** Filled in once the command finished (only visible in the 'after' phase). */
  result?: CommandResult;
  /** Material digests captured before the command (path -> digests), for products to diff against. */
  materials?: Map<string, DigestSet>;
  /** Stamps of the whole tree taken before the command, so products need not re-hash unchanged files. */
  snapshot?: TreeSnapshot;
  /** The 'before' attestors' results by name, for an 'after' attestor that compares with them. */
  earlier?: Readonly<Record<string, unknown>>;
  /** Options given on the command line (globs, allowlists). */
  options: AttestOptions;
  /** Progress messages go here (stderr in the CLI). */
  log: (message: string) => void;
  /**
   * git's answer to `rev-parse --is-inside-work-tree` in `workdir`, asked once
   * per run and shared by the attestors that need it (git, materials): set
   * only by `gitWorkTree()` in git.ts.
   */
  gitWorkTree?: Promise<ExecResult>;
}

export interface AttestOptions {
  /** Globs for materials; default: git-tracked files (or every file) plus lockfiles. */
  materials?: string[];
  /** Globs for products; default: files created or changed by the command. */
  products?: string[];
  /** Extra environment variable names to record (values that look like secrets are never kept). */
  envAllow?: string[];
  /** Images given by digest (`--image`): subjects as they are. */
  images?: Subject[];
  /** Files the command writes an image digest to (`--image-digest-file`), read after it. */
  imageDigestFiles?: ImageDigestFile[];
}

export interface CommandResult {
  exitCode: number;
  signal: string | null;
  startedOn: string;
  finishedOn: string;
}

/** One evidence collector; one file per implementation, listed in attest/index.ts. */
export interface Attestor<T = unknown> {
  readonly name: string;
  readonly phase: Phase;
  attest(ctx: AttestationContext): Promise<T>;
}

/**
 * An attestor whose result names the artifacts the provenance is about.
 * Subjects are derived from the result rather than kept on the attestor, so
 * attestors hold no state between runs and one list serves concurrent runs.
 */
export interface SubjectProducer<T = unknown> {
  subjects(result: T): Subject[];
}

/** Run-time check for the optional SubjectProducer ability (go-witness style). */
export function isSubjectProducer<T>(a: Attestor<T>): a is Attestor<T> & SubjectProducer<T> {
  return typeof (a as Partial<SubjectProducer<T>>).subjects === 'function';
}
