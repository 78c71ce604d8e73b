/**
 * Secret scanning: detectors for credential formats, and the scanner that
 * runs them over text or a stream of chunks. Findings carry a redacted
 * snippet and a fingerprint, never the secret.
 */
import type { Detector } from './detector.ts';
import { awsAccessKeyId, awsSecretAccessKey } from './detectors/aws.ts';
import { databaseUrlPassword } from './detectors/database-url.ts';
import { genericSecret } from './detectors/generic.ts';
import { githubFineGrainedToken, githubToken } from './detectors/github.ts';
import { gitlabToken } from './detectors/gitlab.ts';
import { googleApiKey } from './detectors/google.ts';
import { jwt } from './detectors/jwt.ts';
import { npmToken } from './detectors/npm.ts';
import { privateKey } from './detectors/private-key.ts';
import { pypiToken } from './detectors/pypi.ts';
import { slackToken } from './detectors/slack.ts';
import { stripeKey } from './detectors/stripe.ts';

/** Every detector, in the order their findings are listed for one position. */
export const DETECTORS: readonly Detector[] = [
  privateKey,
  awsAccessKeyId,
  awsSecretAccessKey,
  githubToken,
  githubFineGrainedToken,
  gitlabToken,
  slackToken,
  stripeKey,
  googleApiKey,
  npmToken,
  pypiToken,
  jwt,
  databaseUrlPassword,
  genericSecret,
];

export type { Detector, SecretSpan } from './detector.ts';
export { shannonEntropy } from './entropy.ts';
export {
  type HistoryFinding,
  type HistoryOptions,
  type HistoryResult,
  scanGitHistory,
} from './history.ts';
export { isPlaceholder } from './placeholder.ts';
export {
  redact,
  redactSecrets,
  type SecretFinding,
  scanSecretChunks,
  scanSecretText,
  secretFingerprint,
} from './scanner.ts';
