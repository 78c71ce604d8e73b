// Test support (not a test file): the policy text the policy tests write.
import type { Policy } from './model.ts';
import { type ParsePolicyOptions, parsePolicy } from './parse.ts';

/** A PEM block indented for `key: |` under a signer in `trust.signers`. */
export const indentPem = (pem: string): string => pem.trim().replace(/\n/g, '\n        ');

/**
 * The policy a test wrote, parsed. A policy that does not parse is a broken
 * test, not a result: it throws with the problems and the text.
 */
export async function parsedPolicy(text: string, options: ParsePolicyOptions): Promise<Policy> {
  const r = await parsePolicy(text, options);
  if (!r.ok)
    throw new Error(`policy does not parse: ${JSON.stringify(r.problems, null, 2)}\n${text}`);
  return r.policy;
}

/**
 * A policy named `keyless` that trusts `trusted_root.json` (in the base
 * directory it is parsed against), with `signers` (YAML list items under
 * `trust.signers`) and `require` (the `require:` block and anything after).
 */
export function keylessPolicyText(signers: string, require: string): string {
  return `apiVersion: vouch.dev/policy/v1
kind: Policy
metadata:
  name: keyless
trust:
  trustedRoot: trusted_root.json
  signers:
${signers}${require}`;
}
