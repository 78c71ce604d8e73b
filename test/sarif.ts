// The SARIF 2.1.0 JSON Schema validator for tests (the schema and where it
// comes from: test/fixtures/sarif/README.md).
import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv2020) => Ajv2020;

/** A plain predicate (Ajv's own type would narrow the checked value to `unknown`). */
export type SarifValidator = ((data: unknown) => boolean) & { errors?: ValidateFunction['errors'] };

let cached: SarifValidator | undefined;

/** Validates a SARIF log against the SARIF 2.1.0 schema; `.errors` says why not. */
export function sarifValidator(): SarifValidator {
  if (!cached) {
    const schema = JSON.parse(
      readFileSync(new URL('./fixtures/sarif/sarif-2.1.0.json', import.meta.url), 'utf8'),
    );
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats(ajv);
    cached = ajv.compile(schema);
  }
  return cached;
}
