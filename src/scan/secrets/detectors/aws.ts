import type { Detector } from '../detector.ts';
import { shannonEntropy } from '../entropy.ts';
import { isPlaceholder } from '../placeholder.ts';

/** AWS access key ids: a fixed 4-letter prefix and 16 base32 characters. */
export const awsAccessKeyId: Detector = {
  id: 'secret/aws-access-key-id',
  severity: 'high',
  title: 'AWS access key id',
  description:
    'An AWS access key id (AKIA… long-term, ASIA… temporary). On its own it identifies a key; beside its secret access key it is a working credential. Deactivate the key in IAM, check CloudTrail for its use, and load credentials from the environment or an instance role instead of files.',
  keywords: ['AKIA', 'ASIA', 'ABIA', 'ACCA'],
  pattern: /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b/g,
  check: (secret) => !isPlaceholder(secret),
};

/**
 * AWS secret access keys: 40 base64 characters have no prefix of their own,
 * so only an assignment to a name saying both "aws" and "secret" counts.
 */
export const awsSecretAccessKey: Detector = {
  id: 'secret/aws-secret-access-key',
  severity: 'critical',
  title: 'AWS secret access key',
  description:
    'An AWS secret access key assigned to an aws…secret… name. With its access key id it signs requests as that IAM user. Deactivate and delete the key in IAM now, review CloudTrail, and use roles or a secret store instead.',
  keywords: ['aws', 'AWS', 'Aws'],
  pattern:
    /aws[a-z0-9_.-]{0,30}secret[a-z0-9_.-]{0,30}["']?\s*(?:=>|:=|[:=])\s*["']?([a-z0-9/+]{40})/gi,
  group: 1,
  check: (secret, m, text) => {
    const after = text[(m.index ?? 0) + m[0].length];
    if (after !== undefined && /[A-Za-z0-9/+=]/.test(after)) return false;
    return !isPlaceholder(secret) && shannonEntropy(secret) >= 4;
  },
};
