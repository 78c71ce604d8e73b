import type { Detector } from '../detector.ts';

function decodeJsonObject(part: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** JSON Web Tokens: counted only when header and payload decode to JSON objects and it is signed. */
export const jwt: Detector = {
  id: 'secret/jwt',
  severity: 'medium',
  title: 'JSON Web Token',
  description:
    'A signed JSON Web Token. Until it expires it is a bearer credential for whatever audience it names; long-lived service tokens are common. Revoke it (rotate the signing key if it cannot be revoked) and do not commit tokens.',
  keywords: ['eyJ'],
  pattern: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}/g,
  check: (secret) => {
    const [h, p] = secret.split('.');
    const header = decodeJsonObject(h ?? '');
    const payload = decodeJsonObject(p ?? '');
    return (
      header !== undefined &&
      payload !== undefined &&
      typeof header.alg === 'string' &&
      header.alg.toLowerCase() !== 'none'
    );
  },
};
