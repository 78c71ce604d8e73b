import type { Detector, SecretSpan } from '../detector.ts';

/** How far past the header the key's body is looked for. */
const BODY_WINDOW = 16 * 1024;

/**
 * A PEM private key block: the header alone is not enough (code that checks
 * for one, like `pem.includes('BEGIN PRIVATE KEY')`, has it too), so the
 * header must be followed by a base64 body — on the next lines, or after
 * literal `\n` escapes when the key sits in a JSON or YAML string.
 */
export const privateKey: Detector = {
  id: 'secret/private-key',
  severity: 'critical',
  title: 'Private key',
  description:
    'A PEM private key (RSA, EC, DSA, OpenSSH, PKCS#8 or PGP). Whoever has it can sign, decrypt or log in as its owner. Treat it as compromised: revoke or rotate the key pair (certificates, authorized_keys, deploy keys) and keep private keys out of the repository.',
  keywords: ['PRIVATE KEY'],
  pattern: /-----BEGIN (?:(?:RSA|EC|DSA|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY(?: BLOCK)?-----/g,
  check: (_secret, m, text): SecretSpan | false => {
    const start = (m.index ?? 0) + m[0].length;
    const window = text.slice(start, start + BODY_WINDOW);
    // Optional RFC 1421 / OpenPGP armour headers, a blank line, then the body.
    const body =
      /^(?:\\r|\\n|\r|\n|[ \t"',]|[A-Za-z-]+: [^\r\n\\]*)*?([A-Za-z0-9+/]{40,}(?:(?:\\r|\\n|\r|\n|[ \t"',+])+[A-Za-z0-9+/=]{4,})*)/.exec(
        window,
      );
    if (!body?.[1]) return false;
    const index = start + (body.index ?? 0) + body[0].length - body[1].length;
    const value = body[1].replace(/\\r|\\n|[\s"',+]/g, '');
    if (value.length < 64) return false;
    return { at: m.index ?? 0, index, length: body[1].length, value };
  },
};
