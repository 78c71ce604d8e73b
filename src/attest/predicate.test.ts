import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isVouchError } from '../core/errors.ts';
import { validateProvenance } from './predicate.ts';

function valid(): Record<string, unknown> {
  return {
    buildDefinition: {
      buildType: 'https://vouch.dev/buildtypes/run/v1',
      externalParameters: { command: ['make'], workdir: 'proj' },
      internalParameters: { env: {} },
      resolvedDependencies: [{ uri: 'file:src/a.c', digest: { sha256: 'ab'.repeat(32) } }],
    },
    runDetails: {
      builder: { id: 'https://vouch.dev/builders/local@v1' },
      metadata: {
        invocationId: 'urn:uuid:00000000-0000-4000-8000-000000000000',
        startedOn: '2024-01-01T00:00:00.000Z',
        finishedOn: '2024-01-01T00:00:01Z',
      },
      byproducts: [
        { name: 'command', uri: 'https://vouch.dev/attestors/command/v1', annotations: {} },
      ],
    },
  };
}

function rejectsAt(pred: unknown, field: string): void {
  assert.throws(
    () => validateProvenance(pred, 'x.json'),
    (e) =>
      isVouchError(e) &&
      e.code === 'PREDICATE_MALFORMED' &&
      e.field === field &&
      e.file === 'x.json',
  );
}

test('a well-formed predicate is returned as is', () => {
  const p = valid();
  assert.equal(validateProvenance(p, 'x.json'), p);
});

test('each required part is checked and the error names the field', () => {
  rejectsAt(null, '/predicate');
  const noType = valid();
  (noType.buildDefinition as Record<string, unknown>).buildType = 'not a uri';
  rejectsAt(noType, '/predicate/buildDefinition/buildType');
  const noExt = valid();
  delete (noExt.buildDefinition as Record<string, unknown>).externalParameters;
  rejectsAt(noExt, '/predicate/buildDefinition/externalParameters');
  const noBuilder = valid();
  (noBuilder.runDetails as Record<string, unknown>).builder = { id: '' };
  rejectsAt(noBuilder, '/predicate/runDetails/builder/id');
  const badTime = valid();
  (
    (badTime.runDetails as Record<string, Record<string, unknown>>).metadata as Record<
      string,
      unknown
    >
  ).startedOn = 'yesterday';
  rejectsAt(badTime, '/predicate/runDetails/metadata/startedOn');
});

test('resource descriptors need uri, digest or content, and hex digests', () => {
  const empty = valid();
  (empty.buildDefinition as Record<string, unknown>).resolvedDependencies = [{ name: 'x' }];
  rejectsAt(empty, '/predicate/buildDefinition/resolvedDependencies/0');
  const badHex = valid();
  (badHex.buildDefinition as Record<string, unknown>).resolvedDependencies = [
    { uri: 'file:a', digest: { sha256: 'zz' } },
  ];
  rejectsAt(badHex, '/predicate/buildDefinition/resolvedDependencies/0/digest/sha256');
  const badBy = valid();
  (badBy.runDetails as Record<string, unknown>).byproducts = 'nope';
  rejectsAt(badBy, '/predicate/runDetails/byproducts');
});
