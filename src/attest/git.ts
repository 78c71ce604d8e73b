import type { Attestor } from './attestor.ts';
import { git } from './exec.ts';

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
    };

export const gitAttestor: Attestor<GitAttestation> = {
  name: 'git',
  phase: 'before',
  async attest(ctx) {
    const g = (args: string[]) => git(args, ctx.workdir, ctx.env);
    const inside = await g(['rev-parse', '--is-inside-work-tree']);
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

    const [head, tree, branch, prefix, status] = await Promise.all([
      g(['rev-parse', '--verify', '-q', 'HEAD']),
      g(['rev-parse', '--verify', '-q', 'HEAD^{tree}']),
      g(['symbolic-ref', '--short', '-q', 'HEAD']),
      g(['rev-parse', '--show-prefix']),
      g(['status', '--porcelain=v1', '-z', '--untracked-files=normal']),
    ]);
    const commit = head.ok ? head.stdout.trim() : undefined;
    const changedPaths = status.stdout.split('\0').filter((l) => l !== '').length;
    return {
      present: true,
      ...(commit ? { commit } : {}),
      ...(tree.ok ? { tree: tree.stdout.trim() } : {}),
      ...(branch.ok && branch.stdout.trim() ? { branch: branch.stdout.trim() } : {}),
      ...(await remoteOf(g, branch.ok ? branch.stdout.trim() : undefined)),
      subdir: prefix.stdout.trim().replace(/\/$/, ''),
      // If status itself failed we cannot claim a clean tree.
      dirty: !status.ok || changedPaths > 0,
      changedPaths,
      ...(commit ? { signature: await signatureOf(g) } : {}),
    };
  },
};

type Git = (args: string[]) => ReturnType<typeof git>;

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
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
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
