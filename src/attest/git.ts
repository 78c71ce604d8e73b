import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import type { AttestationContext, Attestor } from './attestor.ts';
import { type ExecResult, git } from './exec.ts';
import { mapLimit } from './pool.ts';

/** What `%G?` letters mean (git-log(1) "PRETTY FORMATS"). */
export const SIGNATURE_STATUS = {
  G: 'good',
  B: 'bad',
  U: 'good-unknown-validity',
  X: 'good-expired-signature',
  Y: 'good-expired-key',
  R: 'good-revoked-key',
  E: 'cannot-check',
  N: 'none',
} as const;

export type SignatureStatus = (typeof SIGNATURE_STATUS)[keyof typeof SIGNATURE_STATUS];

export interface CommitSignature {
  /** As judged by git's own verification (gpg, ssh-keygen or gpgsm, per the user's git config). */
  status: SignatureStatus;
  /** The raw `%G?` letter. */
  code: string;
  /** `%GK`: key used. */
  key?: string;
  /** `%GS`: signer name (for SSH, the principal from the allowed signers file). */
  signer?: string;
  /** `%GF`: fingerprint of the signing key. */
  fingerprint?: string;
  /** `%GP`: fingerprint of the primary key, when a subkey signed. */
  primaryFingerprint?: string;
  /** Why git could not check a signature the commit carries (git's own message). */
  reason?: string;
}

export type GitAttestation =
  | {
      present: false;
      /** Set when there is a repository git would not read (e.g. "detected dubious ownership"). */
      reason?: string;
    }
  | {
      present: true;
      /** HEAD commit; absent in a repository with no commits yet. */
      commit?: string;
      tree?: string;
      /** Absent on a detached HEAD. */
      branch?: string;
      /** Remote URL with user names, passwords and query strings removed. */
      remote?: { name: string; url: string };
      /** Path of the working directory inside the repository ('' at the top). */
      subdir: string;
      /** True when `git status --porcelain` lists anything, untracked files included. */
      dirty: boolean;
      changedPaths: number;
      signature?: CommitSignature;
      /** Every submodule the index records (gitlinks), nested ones included, sorted by path; absent when none. */
      submodules?: GitSubmodule[];
    };

/** A submodule: a gitlink (mode 160000) in the index of the repository or of a submodule above it. */
export interface GitSubmodule {
  /** From the top of the outermost repository's work tree, `/`-separated. */
  path: string;
  /** The commit its parent repository's index pins. */
  pinned: string;
  /** False when its work tree is not checked out (`git submodule update --init` never ran for it). */
  checkedOut: boolean;
  /** The commit checked out in its work tree (what a build uses); absent when not checked out. */
  commit?: string;
  /** Absent on a detached HEAD, which is how `git submodule update` leaves it. */
  branch?: string;
  /**
   * Remote URL, credentials removed as for the top-level remote: the checked-out
   * clone's own remote, else the URL `git submodule init` configured, else `.gitmodules`'.
   */
  url?: string;
}

export const gitAttestor: Attestor<GitAttestation> = {
  name: 'git',
  phase: 'before',
  async attest(ctx) {
    const g = (args: string[]) => git(args, ctx.workdir, ctx.env);
    const inside = await gitWorkTree(ctx);
    if (!inside.ok || inside.stdout.trim() !== 'true') {
      // "not a git repository" is an answer; anything else (a checkout owned
      // by another user in a CI container, a broken .git) must not read as one.
      const reason = inside.stderr
        .trim()
        .split('\n')[0]
        ?.replace(/^fatal: /, '');
      if (inside.ok || !reason || /not a git repository/i.test(reason)) return { present: false };
      ctx.log(`git: not recorded: ${reason}`);
      return { present: false, reason };
    }

    const [head, tree, branch, prefix, status, top] = await Promise.all([
      g(['rev-parse', '--verify', '-q', 'HEAD']),
      g(['rev-parse', '--verify', '-q', 'HEAD^{tree}']),
      g(['symbolic-ref', '--short', '-q', 'HEAD']),
      g(['rev-parse', '--show-prefix']),
      g(['status', '--porcelain=v1', '-z', '--untracked-files=normal']),
      g(['rev-parse', '--show-toplevel']),
    ]);
    const commit = head.ok ? head.stdout.trim() : undefined;
    const changedPaths = status.stdout.split('\0').filter((l) => l !== '').length;
    const remote = await remoteOf(g, branch.ok ? branch.stdout.trim() : undefined);
    const submodules = top.ok
      ? await submodulesOf(top.stdout.replace(/\n$/, ''), '', remote.remote?.url, ctx.env, 0)
      : [];
    return {
      present: true,
      ...(commit ? { commit } : {}),
      ...(tree.ok ? { tree: tree.stdout.trim() } : {}),
      ...(branch.ok && branch.stdout.trim() ? { branch: branch.stdout.trim() } : {}),
      ...remote,
      subdir: prefix.stdout.trim().replace(/\/$/, ''),
      // If status itself failed we cannot claim a clean tree.
      dirty: !status.ok || changedPaths > 0,
      changedPaths,
      ...(commit ? { signature: await signatureOf(g) } : {}),
      ...(submodules.length > 0
        ? {
            submodules: submodules.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
          }
        : {}),
    };
  },
};

/**
 * `git rev-parse --is-inside-work-tree` in the working directory, spawned
 * once per run however many attestors ask (the git and materials attestors
 * both do, concurrently): the first call starts it, later ones share its
 * result. The working directory and environment do not change during a run.
 */
export function gitWorkTree(ctx: AttestationContext): Promise<ExecResult> {
  ctx.gitWorkTree ??= git(['rev-parse', '--is-inside-work-tree'], ctx.workdir, ctx.env);
  return ctx.gitWorkTree;
}

/** Submodules inside submodules deeper than this are not looked into (a hostile tree could nest without end). */
const MAX_SUBMODULE_DEPTH = 16;

/**
 * The gitlinks in the index of the repository whose work tree is `dir`, and
 * recursively those of each checked-out submodule. `prefix` is `dir`'s path
 * from the outermost work tree ('' or ending in '/'); `parentUrl` resolves a
 * relative `.gitmodules` URL (`../lib.git`) as git does.
 */
async function submodulesOf(
  dir: string,
  prefix: string,
  parentUrl: string | undefined,
  env: NodeJS.ProcessEnv,
  depth: number,
): Promise<GitSubmodule[]> {
  if (depth > MAX_SUBMODULE_DEPTH) return [];
  const g = (args: string[]) => git(args, dir, env);
  const staged = await g(['ls-files', '-z', '--stage']);
  if (!staged.ok) return [];
  const links = new Map<string, string>();
  for (const entry of staged.stdout.split('\0')) {
    // "<mode> <object> <stage>\t<path>"; an unmerged gitlink is listed per stage: the first wins.
    const m = /^160000 ([0-9a-f]+) \d\t(.+)$/s.exec(entry);
    if (m && !links.has(m[2] as string)) links.set(m[2] as string, m[1] as string);
  }
  if (links.size === 0) return [];
  const configured = await submoduleUrls(g);
  const found = await mapLimit([...links], 4, async ([path, pinned]) => {
    const sub = join(dir, path);
    const s = (args: string[]) => git(args, sub, env);
    // An uninitialised submodule is an empty directory of the superproject's
    // work tree: git run there answers for the superproject. It is checked
    // out only if it is the top of a work tree of its own. Anything but a
    // real directory there (a file, a link that could lead to another
    // repository, nothing) is not a checkout of it.
    const isDir = await lstat(sub).then(
      (st) => st.isDirectory(),
      () => false,
    );
    const own = isDir ? await s(['rev-parse', '--show-prefix']) : undefined;
    const checkedOut = own?.ok === true && own.stdout.trim() === '';
    const declared = configured.get(path);
    const declaredUrl = declared ? resolveSubmoduleUrl(declared, parentUrl) : undefined;
    if (!checkedOut) {
      const one: GitSubmodule = { path: prefix + path, pinned, checkedOut: false };
      if (declaredUrl) one.url = declaredUrl;
      return [one];
    }
    const [head, branch] = await Promise.all([
      s(['rev-parse', '--verify', '-q', 'HEAD']),
      s(['symbolic-ref', '--short', '-q', 'HEAD']),
    ]);
    const b = branch.ok ? branch.stdout.trim() : '';
    const { remote } = await remoteOf(s, b || undefined);
    const url = remote?.url ?? declaredUrl;
    const one: GitSubmodule = { path: prefix + path, pinned, checkedOut: true };
    if (head.ok && head.stdout.trim()) one.commit = head.stdout.trim();
    if (b) one.branch = b;
    if (url) one.url = url;
    return [one, ...(await submodulesOf(sub, `${prefix}${path}/`, url, env, depth + 1))];
  });
  return found.flat();
}

/**
 * Submodule path → URL: what `git submodule init` wrote to the repository's
 * config, else what `.gitmodules` in the work tree declares. Raw: not yet
 * resolved or cleaned.
 */
async function submoduleUrls(g: Git): Promise<Map<string, string>> {
  const [declared, initialised] = await Promise.all([
    g(['config', '-z', '-f', '.gitmodules', '--get-regexp', '^submodule\\..*\\.(path|url)$']),
    g(['config', '-z', '--get-regexp', '^submodule\\..*\\.url$']),
  ]);
  const paths = new Map<string, string>();
  const urls = new Map<string, string>();
  const read = (out: string, into: (key: string, value: string) => void) => {
    for (const item of out.split('\0')) {
      const nl = item.indexOf('\n');
      if (nl > 0) into(item.slice(0, nl), item.slice(nl + 1));
    }
  };
  // -z prints "key\nvalue"; the submodule's name may itself hold dots.
  read(declared.stdout, (key, value) => {
    const m = /^submodule\.(.+)\.(path|url)$/s.exec(key);
    if (!m) return;
    if (m[2] === 'path') paths.set(m[1] as string, value.replace(/\/+$/, ''));
    else if (!urls.has(m[1] as string)) urls.set(m[1] as string, value);
  });
  read(initialised.stdout, (key, value) => {
    const m = /^submodule\.(.+)\.url$/s.exec(key);
    if (m) urls.set(m[1] as string, value);
  });
  const out = new Map<string, string>();
  for (const [name, path] of paths) {
    const url = urls.get(name);
    if (url !== undefined) out.set(path, url);
  }
  return out;
}

/**
 * A `.gitmodules` URL, credentials removed. A relative one (`../lib.git`) is
 * relative to the parent repository's remote, as git resolves it; without a
 * URL-form parent remote it is left out rather than guessed.
 */
function resolveSubmoduleUrl(url: string, parentUrl: string | undefined): string | undefined {
  if (!/^\.\.?\//.test(url)) return sanitizeRemoteUrl(url);
  if (!parentUrl || !isUrlForm(parentUrl)) return undefined;
  try {
    return sanitizeRemoteUrl(new URL(url, `${parentUrl.replace(/\/+$/, '')}/`).toString());
  } catch {
    return undefined;
  }
}

type Git = (args: string[]) => ReturnType<typeof git>;

/** `scheme://…`, as opposed to scp-like `host:path` or a local path. */
function isUrlForm(url: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(url);
}

/** The branch's upstream remote, else `origin`, else the first remote. */
async function remoteOf(
  g: Git,
  branch: string | undefined,
): Promise<{ remote?: { name: string; url: string } }> {
  const list = await g(['remote']);
  const names = list.stdout.split('\n').filter((n) => n !== '');
  if (names.length === 0) return {};
  let name = names.includes('origin') ? 'origin' : (names[0] as string);
  if (branch) {
    const upstream = await g(['config', '--get', `branch.${branch}.remote`]);
    const u = upstream.stdout.trim();
    if (upstream.ok && names.includes(u)) name = u;
  }
  const url = await g(['remote', 'get-url', name]);
  if (!url.ok) return {};
  const clean = sanitizeRemoteUrl(url.stdout.trim());
  return clean ? { remote: { name, url: clean } } : {};
}

/**
 * Removes credentials from a remote URL. CI systems commonly clone with
 * `https://x-access-token:<token>@github.com/…`; a user name alone can be a
 * token too, so both go, and so does the query string (`?private_token=`).
 * scp-like `git@host:path` keeps its user: it is an account name, not a
 * secret. Local paths are dropped: they only reveal the machine's layout.
 */
export function sanitizeRemoteUrl(url: string): string | undefined {
  if (isUrlForm(url)) {
    try {
      const u = new URL(url);
      if (u.protocol === 'file:') return undefined;
      u.username = '';
      u.password = '';
      u.search = '';
      u.hash = '';
      return u.toString();
    } catch {
      // Unparseable (a '/' or '#' in a password does it): cut through the last
      // '@', and keep the rest only if it is then a clean URL — fail closed.
      const cut = url.replace(/^([a-z][a-z0-9+.-]*:\/\/).*@/is, '$1');
      return cut !== url && URL.canParse(cut) ? sanitizeRemoteUrl(cut) : undefined;
    }
  }
  // scp-like `[user@]host:path`; a user part holding ':' is a password.
  if (/^[^/\s:@]+@[^/\s:@]+:/.test(url) || /^[^/\s:@]+:[^/@][^@]*$/.test(url)) return url;
  return undefined;
}

async function signatureOf(g: Git): Promise<CommitSignature> {
  // --no-show-signature: with log.showSignature set (common among people who
  // sign), git would print gpg's report into stdout ahead of the format.
  const r = await g([
    'log',
    '-1',
    '--no-show-signature',
    '--format=%G?%x00%GK%x00%GS%x00%GF%x00%GP',
    'HEAD',
  ]);
  const [code = 'E', key, signer, fingerprint, primaryFingerprint] = r.stdout.trim().split('\0');
  let status = (SIGNATURE_STATUS as Record<string, SignatureStatus>)[code] ?? 'cannot-check';
  // git says N ("no signature") also for a signature it has no means to check
  // (SSH signing without gpg.ssh.allowedSignersFile): a signed commit must not
  // be recorded as unsigned.
  if (status === 'none' && (await carriesSignature(g))) status = 'cannot-check';
  const sig: CommitSignature = { status, code };
  if (key) sig.key = key;
  if (signer) sig.signer = signer;
  if (fingerprint) sig.fingerprint = fingerprint;
  if (primaryFingerprint) sig.primaryFingerprint = primaryFingerprint;
  const reason = r.stderr.trim().split('\n')[0];
  if (status === 'cannot-check' && reason) sig.reason = reason;
  return sig;
}

/** True when HEAD's commit object has a signature header (gpgsig, gpgsig-sha256). */
async function carriesSignature(g: Git): Promise<boolean> {
  const r = await g(['cat-file', 'commit', 'HEAD']);
  const headers = r.stdout.split('\n\n', 1)[0] ?? '';
  return /^gpgsig(?:-sha256)? /m.test(headers);
}
