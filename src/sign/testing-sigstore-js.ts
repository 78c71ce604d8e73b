// Test support only (not exported from index.ts): sigstore-js's unit-test
// fixture modules (data-only TypeScript, in the shared vectors'
// sigstore/sigstore-js/ts-fixtures/) read where they are, never copied.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { runInNewContext } from 'node:vm';

/** The one import a fixture module has (verify__trust.ts); it does not resolve from ../shared. */
const PROTOBUF_SPECS_IMPORT = "import { TrustedRoot } from '@sigstore/protobuf-specs';";

/**
 * The exports of one fixture module. A module without imports is imported as
 * it is (Node strips its types). verify__trust.ts imports @sigstore/protobuf-
 * specs only to turn its JSON trusted root into protobuf objects
 * (`export const trustedRoot = TrustedRoot.fromJSON(trustedRootJSON)`);
 * vouch takes the JSON form, so that object literal is evaluated alone, in
 * an empty context, and exported under the same name. Any other shape is an
 * error, so a changed fixture cannot be half-read.
 */
export async function loadSigstoreJsFixture(file: string): Promise<Record<string, unknown>> {
  const text = readFileSync(file, 'utf8');
  const imports = text.match(/^import .*$/gm) ?? [];
  if (imports.length === 0) return { ...(await import(pathToFileURL(file).href)) };
  if (imports.length !== 1 || imports[0] !== PROTOBUF_SPECS_IMPORT) {
    throw new Error(`${file}: unexpected imports: ${imports.join(' ')}`);
  }
  const exports = text.match(/^export .*$/gm) ?? [];
  const exported = /^export const (\w+) = TrustedRoot\.fromJSON\((\w+)\);$/.exec(exports[0] ?? '');
  if (exports.length !== 1 || !exported) {
    throw new Error(`${file}: expected one export, X = TrustedRoot.fromJSON(json)`);
  }
  const [, name, jsonName] = exported as unknown as [string, string, string];
  const literal = new RegExp(`^const ${jsonName} = (\\{[\\s\\S]*?^\\});$`, 'm').exec(text);
  if (!literal?.[1]) throw new Error(`${file}: no object literal const ${jsonName}`);
  const value: unknown = runInNewContext(`(${literal[1]})`, Object.create(null), {
    timeout: 1000,
  });
  // JSON form, as a trusted_root.json file would hold it (undefined = absent).
  return { [name]: JSON.parse(JSON.stringify(value)) };
}

/** What sigstore-js reads for a missing validity start (@sigstore/verify trust/index.ts). */
export const SIGSTORE_JS_BEGINNING_OF_TIME = '1970-01-01T00:00:00.000Z';

/**
 * A trusted root as sigstore-js reads it: every log key, CA and TSA without
 * a validity start gets the start sigstore-js gives it, the beginning of
 * time. vouch (as sigstore-go for logs) refuses a root that leaves it out.
 */
export function asSigstoreJsReadsIt(root: unknown): unknown {
  const copy = structuredClone(root) as Record<string, Array<Record<string, unknown>> | undefined>;
  const fill = (holder: Record<string, unknown>) => {
    const validFor = (holder.validFor ?? {}) as Record<string, unknown>;
    validFor.start ??= SIGSTORE_JS_BEGINNING_OF_TIME;
    holder.validFor = validFor;
  };
  for (const list of ['tlogs', 'ctlogs'])
    for (const log of copy[list] ?? []) fill(log.publicKey as Record<string, unknown>);
  for (const list of ['certificateAuthorities', 'timestampAuthorities'])
    for (const authority of copy[list] ?? []) fill(authority);
  return copy;
}
