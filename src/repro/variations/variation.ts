/** What reprotest varies, by the names `--vary` takes. */
export type VariationName =
  | 'clock'
  | 'tz'
  | 'locale'
  | 'umask'
  | 'path'
  | 'home'
  | 'user'
  | 'hostname'
  | 'env'
  | 'order';

/** Everything about one build run that a variation can change. */
export interface BuildSetup {
  /** Temp root of this check (private). */
  root: string;
  /** Base name of the source tree, kept in every build path. */
  sourceName: string;
  env: Record<string, string>;
  /** Where the build runs (the source is copied here). */
  buildDir: string;
  home: string;
  umask: number;
  /** Command prefixes, outermost first. */
  wrappers: string[][];
  /** Run the build as this user (as root only). */
  runAs?: { uid: number; gid: number };
  /** Mount the build dir through disorderfs with reversed directory order. */
  disorder?: boolean;
}

/** What a probe found out about this machine, once per check. */
export interface Machine {
  root: boolean;
  has(tool: string): boolean;
  /** Tried for real: mounting a disorderfs overlay in a temp dir. */
  fuseWorks: boolean;
  /** Tried for real: `unshare --uts true`. */
  unshareWorks: boolean;
  /** Installed locales as `locale -a` lists them, normalized (`fr_CH.utf8`); empty when unknown. */
  locales: ReadonlySet<string>;
}

/** One kind of variation: a value for the control build and one per experiment run. */
export interface Variation {
  readonly name: VariationName;
  /** What is varied, for people. */
  readonly what: string;
  /** The usual fix when this variation changes the output. */
  readonly hint: string;
  /** Why it cannot be applied here, or undefined when it can. */
  unavailable(m: Machine): string | undefined;
  control(s: BuildSetup): void;
  /** The experiment value for run `n` (1, 2, …). */
  vary(s: BuildSetup, n: number, m: Machine): void;
}
