import type { Detector } from '../detector.ts';
import { shannonEntropy } from '../entropy.ts';
import { isPlaceholder } from '../placeholder.ts';

export const gitlabToken: Detector = {
  id: 'secret/gitlab-token',
  severity: 'high',
  title: 'GitLab personal access token',
  description:
    'A GitLab personal, project or group access token (glpat-…). Revoke it under Access Tokens and use CI_JOB_TOKEN or a masked, protected CI variable instead.',
  keywords: ['glpat-'],
  pattern: /\bglpat-[A-Za-z0-9_.-]{20,80}/g,
  check: (secret) => !isPlaceholder(secret) && shannonEntropy(secret.slice(6)) >= 3,
};
