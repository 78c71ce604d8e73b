import type { Detector } from '../detector.ts';

/** PyPI API tokens are macaroons: `pypi-` + base64url starting with the AgE… version bytes. */
export const pypiToken: Detector = {
  id: 'secret/pypi-token',
  severity: 'high',
  title: 'PyPI API token',
  description:
    'A PyPI (or TestPyPI) API token (pypi-AgE…). It uploads releases of the projects in its scope. Remove it under Account settings → API tokens and publish with trusted publishing (OIDC).',
  keywords: ['pypi-AgE'],
  pattern: /\bpypi-AgE[A-Za-z0-9_-]{50,}/g,
};
