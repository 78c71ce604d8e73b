// in-toto metadata v0.9 (layouts and links): the folder's public surface.

export {
  DEFAULT_INSPECTION_TIMEOUT_SECONDS,
  INSPECTION_STREAM_LIMIT,
  MAX_INSPECTION_TIMEOUT_SECONDS,
} from './inspect.ts';
export {
  type IntotoPublicKey,
  type IntotoScheme,
  type IntotoSigningKey,
  type KeyDict,
  keyFromDict,
  loadIntotoPublicKey,
  loadIntotoSigningKey,
  securesystemslibKeyid,
} from './keys.ts';
export {
  type LinkInput,
  linkFileNameFor,
  type Metablock,
  makeLink,
  metablockJson,
  signMetablock,
} from './link.ts';
export {
  type Artifacts,
  INTOTO_PAYLOAD_TYPE,
  type Inspection,
  type Layout,
  type Link,
  parseLayout,
  parseLink,
  parseSignedMetadata,
  parseTime,
  type SignedMetadata,
  type Step,
} from './model.ts';
export { type RecordLinkOptions, type RecordLinkResult, recordLink } from './record.ts';
export { type ArtifactRule, applyRules, fnmatch, parseRule, type RuleOutcome } from './rules.ts';
export {
  type InspectionMode,
  type IntotoCheck,
  type IntotoVerdict,
  type IntotoVerifyOptions,
  linkFileName,
  verifyIntotoLayout,
} from './verify.ts';
