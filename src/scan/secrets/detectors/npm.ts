import { hasCrc32Checksum } from '../checksum.ts';
import type { Detector } from '../detector.ts';

/** npm access tokens (2021 format): like GitHub's, the last six characters are a CRC32. */
export const npmToken: Detector = {
  id: 'secret/npm-token',
  severity: 'high',
  title: 'npm access token',
  description:
    'An npm access token (npm_…) with a valid checksum. A publish-capable token lets anyone publish versions of your packages. Revoke it (npm token revoke) and publish from CI with trusted publishing (OIDC) instead.',
  keywords: ['npm_'],
  pattern: /\bnpm_[A-Za-z0-9]{36}\b/g,
  check: (secret) => hasCrc32Checksum(secret),
};
