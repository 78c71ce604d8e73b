import type { Detector } from '../detector.ts';
import { shannonEntropy } from '../entropy.ts';
import { isFixturePath, isPlaceholder } from '../placeholder.ts';

/** Bits per character a value needs to count as random (random hex is ~3.7–4, base64 ~5). */
export const ENTROPY_THRESHOLD = 3.5;

/** The end of a variable name that says its value is a digest. */
const DIGEST_NAME =
  /(?:hash|hashed|digest|checksum|sha(?:1|224|256|384|512)?|md5|fingerprint)["']?\s*(?:=>|:=|[:=])\s*["'`]$/i;

/**
 * A quoted, high-entropy value assigned to a name that says it is a secret:
 * `api_key = "…"`, `"clientSecret": "…"`, `PASSWORD: '…'`. Names, identifiers,
 * paths, URLs and placeholders do not count, nor test fixtures.
 */
export const genericSecret: Detector = {
  id: 'secret/generic-assignment',
  severity: 'medium',
  title: 'High-entropy secret assignment',
  description:
    'A random-looking value assigned to a variable or key named like a secret (password, token, secret, api key, private key, credentials). Move the value to the environment or a secret store and rotate it; if it is not a secret, rename the variable or suppress the finding with a justification.',
  keywords: [],
  pattern:
    /(?:secret|token|passw(?:or)?d|api[_-]?key|access[_-]?key|private[_-]?key|credentials?|auth[_-]?key)[a-z0-9_-]{0,20}["']?\s{0,4}(?:=>|:=|[:=])\s{0,4}["'`]([^"'`\s\\]{16,200})["'`]/gi,
  group: 1,
  skipPath: isFixturePath,
  check: (value, match) => {
    if (!/[0-9]/.test(value) || !/[A-Za-z]/.test(value)) return false;
    // `token_hash`, `secretSha256`, `password_digest`: a digest of a secret, not the secret.
    if (DIGEST_NAME.test(match[0].slice(0, match[0].lastIndexOf(value)))) return false;
    // Paths, URLs, dotted names, module specifiers, version ranges, CSS and selectors.
    if (/[/.:@#(){}$%<>,;]|^sha\d+-|^[A-Z0-9_]+$|^[a-z]+(?:[A-Z][a-z0-9]*)+$/.test(value)) {
      return false;
    }
    if (/^[a-z0-9]+(?:[-_][a-z0-9]+)+$/i.test(value) && !/[0-9]{4}/.test(value)) return false;
    return shannonEntropy(value) >= ENTROPY_THRESHOLD && !isPlaceholder(value);
  },
};
