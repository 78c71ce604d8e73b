import { hasCrc32Checksum } from '../checksum.ts';
import type { Detector } from '../detector.ts';

/**
 * GitHub tokens of the 2021 format: ghp_ (personal), gho_ (OAuth), ghu_
 * (user-to-server), ghs_ (server-to-server), ghr_ (refresh). The last six
 * characters are a CRC32 of the random part: a string that fails it is not a
 * token GitHub issued, so it is not reported.
 */
export const githubToken: Detector = {
  id: 'secret/github-token',
  severity: 'high',
  title: 'GitHub token',
  description:
    'A GitHub access token (ghp_/gho_/ghu_/ghs_/ghr_) whose built-in CRC32 checksum is valid. Anyone holding it acts as its owner within its scopes. Revoke it (Settings → Developer settings, or the app installation), review the audit log, and use a short-lived GITHUB_TOKEN or OIDC instead.',
  keywords: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'],
  pattern: /\bgh[pousr]_[A-Za-z0-9]{36}\b/g,
  check: (secret) => hasCrc32Checksum(secret),
};

/** Fine-grained personal access tokens; their checksum scheme is not published. */
export const githubFineGrainedToken: Detector = {
  id: 'secret/github-fine-grained-token',
  severity: 'high',
  title: 'GitHub fine-grained personal access token',
  description:
    'A GitHub fine-grained personal access token (github_pat_…). Revoke it in Settings → Developer settings → Fine-grained tokens and review what it could reach.',
  keywords: ['github_pat_'],
  pattern: /\bgithub_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}\b/g,
};
