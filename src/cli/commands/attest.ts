import { resolve } from 'node:path';
import { SLSA_PROVENANCE_V1, validateProvenance } from '../../attest/index.ts';
import { isDigestString, parseDigest } from '../../core/digest.ts';
import { VouchError } from '../../core/errors.ts';
import { isObject, readJsonFile } from '../../core/json.ts';
import { resolvePredicateType } from '../../core/predicates.ts';
import { makeStatement, type Subject } from '../../core/statement.ts';
import { fileSubject } from '../../core/subject-name.ts';
import { parse, usage } from '../args.ts';
import { printJson } from '../io.ts';
import { REGISTRY_DIGEST_HELP, REGISTRY_OPTIONS } from '../oci.ts';
import { PUBLISH_OPTIONS, signAndPublish } from '../publish.ts';
import { SIGNING_HELP, SIGNING_OPTIONS, signingModeFrom } from '../signing.ts';
import type { Command } from './command.ts';

const HELP = `Usage: vouch attest <file | sha256:HEX> --predicate-type T --predicate FILE [options]
       vouch attest oci://HOST/REPO@sha256:HEX --predicate-type T --predicate FILE [options]

Signs an in-toto Statement v1 with any predicate about a file (or a digest).

  --predicate-type T   a URI, or one of: slsaprovenance, slsaprovenance02, vsa, cyclonedx,
                       spdx, vuln, openvex, test-result, link, custom
  --predicate FILE     the predicate, a JSON object
  --name NAME          subject name (default: the file's path relative to the
                       current directory, or its base name when outside it)
${SIGNING_HELP}

  --store DIR          evidence store (default: .vouch)
  --no-store           do not store the bundle
  --out FILE           also write the bundle to FILE
  --json               print a JSON summary on stdout

An oci:// target: the Statement's subject is the image digest and the bundle is
pushed to the registry as a referrer of the image (see docs/oci.md).
${REGISTRY_DIGEST_HELP}`;

export const attestCommand: Command = {
  name: 'attest',
  help: HELP,
  async run(argv, io) {
    const { values, positionals } = parse('attest', argv, {
      ...SIGNING_OPTIONS,
      'predicate-type': { type: 'string' },
      predicate: { type: 'string' },
      name: { type: 'string' },
      ...PUBLISH_OPTIONS,
      ...REGISTRY_OPTIONS,
    });
    if (values.help) {
      io.stdout(`${HELP}\n`);
      return 0;
    }
    if (positionals.length !== 1) throw usage('attest', 'give exactly one file or sha256:HEX');
    if (!values['predicate-type']) throw usage('attest', '--predicate-type is required');
    if (!values.predicate) throw usage('attest', '--predicate is required');
    const target = positionals[0] as string;
    const predicateType = resolvePredicateType(values['predicate-type']);
    const predicatePath = resolve(io.cwd, values.predicate);
    const predicate = await readJsonFile(predicatePath);
    if (!isObject(predicate)) {
      throw new VouchError('PREDICATE_MALFORMED', 'predicate must be a JSON object', {
        file: values.predicate,
      });
    }
    if (predicateType === SLSA_PROVENANCE_V1) validateProvenance(predicate, values.predicate);
    if (target.startsWith('oci://'))
      return (await import('../oci.ts')).attestOci(target, predicateType, predicate, values, io);
    const subject = await subjectOf(target, values.name, io.cwd);
    const mode = await signingModeFrom('attest', values, io);
    const statement = makeStatement([subject], predicateType, predicate);
    const published = await signAndPublish(statement, mode, values, io);
    if (values.json) {
      printJson(io, {
        subject,
        predicateType,
        bundle: published,
      });
    } else {
      io.stdout(
        `attested ${predicateType} about ${subject.name} sha256:${subject.digest.sha256}\n`,
      );
      if (published.stored) io.stdout(`stored ${published.stored.path}\n`);
      if (published.out) io.stdout(`wrote ${published.out}\n`);
    }
    return 0;
  },
};

async function subjectOf(target: string, name: string | undefined, cwd: string): Promise<Subject> {
  if (isDigestString(target)) {
    const { algorithm, hex } = parseDigest(target);
    return { name: name ?? target, digest: { [algorithm]: hex } };
  }
  return fileSubject(target, cwd, name);
}
