import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { writeFileAtomic } from '../../core/atomic.ts';
import { errorMessage, isVouchError, VouchError } from '../../core/errors.ts';
import {
  bindingInputsOf,
  bindingShape,
  bindingValue,
  detectPlatform,
  parseCertificates,
  parsePcrFile,
  readPublicKey,
  TEE_BINDING_V1,
  TEE_BYPRODUCT_URI,
  TEE_PLATFORMS,
  type TeeCheck,
  type TeeExpectedPcr,
  type TeePlatform,
  type TeePredicate,
  type TeeVerdict,
  TPM_EVIDENCE_FORMAT,
  type TpmEvidenceJson,
  type TpmVerifyOptions,
  teeVerifiers,
  verifierFor,
} from '../../tee/index.ts';
import { parse, subcommand, usage } from '../args.ts';
import { type Io, packageVersion, printJson } from '../io.ts';
import type { Command } from './command.ts';
import { EXPECT_HELP, EXPECT_OPTIONS, expectationPolicy } from './tee-expect.ts';

const HELP = `Usage: vouch tee verify EVIDENCE [options]

Verifies trusted-execution-environment evidence offline, with the vendor
roots built into vouch (AMD ARK, Intel SGX Root CA, AWS Nitro Root-G1, each
pinned by digest): an AMD SEV-SNP report, an Intel TDX quote, an AWS Nitro
Enclaves attestation document (CBOR or base64), or a TPM 2.0 quote (vouch's
TPM evidence JSON, a GCE go-tpm-tools attestation, or the message file of
tpm2_quote with --signature). EVIDENCE may also be provenance written by
\`vouch run --tee\` (a bundle or Statement): the evidence is taken from its
"tee" byproduct and its nonce / report data must bind that provenance.
Exit 0 verified, 1 not verified, 2 bad input.

Options:
  --platform P              auto (default), sev-snp, tdx, nitro or tpm
  --at RFC3339              judge certificate validity at this time (default: now)
  --cert-chain FILE         extra certificates: VCEK/VLEK, ASK, PCK chain, AK
                            certificate or intermediates (repeatable)
  --root FILE               trust these roots instead of the built-in ones
                            (TPM: the EK/AK CA roots) (repeatable)
  --collateral DIR          TDX TCB info / QE identity, CRLs (files named *crl*:
                            Intel SGX Root CA and PCK CA CRLs, AMD KDS CRL)
  --require-crl             SEV-SNP / TDX: fail when the collateral has no CRL for
                            the chain (default: a warning)
  --expect-report-data HEX  REPORT_DATA (SEV-SNP, TDX) or user_data (Nitro) must equal this
  --expect-nonce HEX        the nonce (Nitro) / extraData (TPM) must equal this
  --pcrs FILE               expected PCR values: JSON {"sha256":{"0":"HEX"}} or
                            tpm2_pcrread / tpm2_quote output
  --ak FILE                 the trusted TPM attestation key (PEM or TPM2B_PUBLIC)
  --signature FILE          TPMT_SIGNATURE of a raw tpm2_quote message (with --pcrs)
  --measurement HEX         allowed launch measurement (repeatable)
  --insecure-allow-debug    accept a debug guest / enclave
  --predicate-out FILE      write the verdict as a TEE evidence predicate
                            (https://vouch.dev/attestation/tee/v1), for vouch attest
  --json                    the verdict as JSON on stdout

${EXPECT_HELP}`;

const MAX_EVIDENCE = 16 * 1024 * 1024;

export const teeCommand: Command = {
  name: 'tee',
  help: HELP,
  async run(argv, io) {
    const s = subcommand('tee', argv, ['verify']);
    if (s === 'help') {
      io.stdout(`${HELP}\n`);
      return 0;
    }
    return verify(s.rest, io);
  },
};

async function verify(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('tee verify', argv, {
    platform: { type: 'string', default: 'auto' },
    at: { type: 'string' },
    'cert-chain': { type: 'string', multiple: true },
    root: { type: 'string', multiple: true },
    collateral: { type: 'string' },
    'require-crl': { type: 'boolean' },
    'expect-report-data': { type: 'string' },
    'expect-nonce': { type: 'string' },
    pcrs: { type: 'string' },
    ak: { type: 'string' },
    signature: { type: 'string' },
    measurement: { type: 'string', multiple: true },
    'insecure-allow-debug': { type: 'boolean' },
    'predicate-out': { type: 'string' },
    ...EXPECT_OPTIONS,
  });
  if (values.help) {
    io.stdout(`${HELP}\n`);
    return 0;
  }
  if (positionals.length !== 1) throw usage('tee verify', 'give exactly one EVIDENCE file');
  const file = positionals[0] as string;
  const platformArg = values.platform as string;
  if (platformArg !== 'auto' && !(TEE_PLATFORMS as readonly string[]).includes(platformArg))
    throw usage(
      'tee verify',
      `--platform ${platformArg}: expected auto, ${TEE_PLATFORMS.join(', ')}`,
    );
  let at = new Date();
  if (values.at !== undefined) {
    if (
      !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(values.at) ||
      Number.isNaN(Date.parse(values.at))
    )
      throw usage(
        'tee verify',
        `--at ${JSON.stringify(values.at)} is not an RFC 3339 time (e.g. 2024-09-07T14:37:39Z)`,
      );
    at = new Date(values.at);
  }
  if (values['insecure-allow-debug'])
    io.stderr(
      'vouch tee verify: warning: --insecure-allow-debug accepts debug guests, whose memory the host can read\n',
    );

  const path = (p: string) => resolve(io.cwd, p);
  const options: TpmVerifyOptions = { at };
  if (values['cert-chain'])
    options.certChain = await Promise.all(
      values['cert-chain'].map((f) => readCertificates(path(f), f)),
    );
  if (values.root)
    options.roots = await Promise.all(values.root.map((f) => readCertificates(path(f), f)));
  if (values.collateral !== undefined) options.collateralDir = path(values.collateral);
  if (values['expect-report-data'] !== undefined)
    options.expectReportData = hexFlag('--expect-report-data', values['expect-report-data']);
  if (values['expect-nonce'] !== undefined)
    options.expectNonce = hexFlag('--expect-nonce', values['expect-nonce']);
  if (values.ak !== undefined) {
    const data = await readInput(path(values.ak), values.ak);
    options.akPublicKey = withFile(values.ak, () => readPublicKey(data, '--ak'));
  }
  const expectations = expectationPolicy(values);
  const policy: NonNullable<TpmVerifyOptions['policy']> = { ...expectations.policy };
  if (values['insecure-allow-debug']) policy.insecureAllowDebug = true;
  if (values['require-crl']) policy.requireCrl = true;
  if (values.measurement)
    policy.measurements = values.measurement.map((m) =>
      hexFlag('--measurement', m).toString('hex'),
    );
  options.policy = policy;
  let pcrValues: Map<string, Map<number, Buffer>> | undefined;
  if (values.pcrs !== undefined) {
    const text = (await readInput(path(values.pcrs), values.pcrs)).toString('utf8');
    pcrValues = withFile(values.pcrs, () => parsePcrFile(text, values.pcrs as string));
    options.pcrs = [...pcrValues].flatMap(([alg, m]) =>
      [...m].map(([index, v]): TeeExpectedPcr => ({ index, alg, value: v.toString('hex') })),
    );
  }

  let evidence = await readInput(path(file), file);
  const extraChecks: TeeCheck[] = [];
  let platform: TeePlatform | undefined =
    platformArg === 'auto' ? undefined : (platformArg as TeePlatform);

  // Provenance from `vouch run --tee`: take the evidence out and require the binding.
  const fromProvenance = provenanceEvidence(evidence, file);
  if (fromProvenance) {
    // The binding is the nonce / report data this evidence must carry; a value the
    // caller gives as well would be silently replaced, so it is refused instead.
    for (const flag of ['expect-nonce', 'expect-report-data'] as const)
      if (values[flag] !== undefined)
        throw usage(
          'tee verify',
          `--${flag} cannot be used with provenance from vouch run --tee: its ${bindingShape(fromProvenance.platform).field} must be the provenance binding, which is checked`,
        );
    platform = fromProvenance.platform;
    evidence = fromProvenance.evidence;
    const shape = bindingShape(platform);
    const want = bindingValue(fromProvenance.inputs, shape.algorithm);
    const recorded = fromProvenance.recorded;
    extraChecks.push({
      name: 'binding',
      ok: recorded === want.toString('hex'),
      detail:
        recorded === want.toString('hex')
          ? `the provenance's command, materials and start time hash (${shape.algorithm}) to the recorded binding`
          : `the provenance hashes to ${want.toString('hex')}, the recorded binding is ${recorded}`,
    });
    if (shape.field === 'nonce') options.expectNonce = want;
    else options.expectReportData = want;
  } else if (values.signature !== undefined) {
    // A raw tpm2_quote message: assemble vouch's TPM evidence from the three files.
    if (!pcrValues)
      throw usage('tee verify', '--signature needs --pcrs with the quoted PCR values');
    const sig = await readInput(path(values.signature), values.signature);
    const json: TpmEvidenceJson = {
      format: TPM_EVIDENCE_FORMAT,
      quote: evidence.toString('base64'),
      signature: sig.toString('base64'),
      pcrs: Object.fromEntries(
        [...pcrValues].map(([b, m]) => [
          b,
          Object.fromEntries([...m].map(([i, v]) => [String(i), v.toString('hex')])),
        ]),
      ),
    };
    evidence = Buffer.from(JSON.stringify(json));
    platform = 'tpm';
  }

  const verifiers = teeVerifiers();
  const verdict = await withFileAsync(file, async () => {
    const p = platform ?? detectPlatform(evidence, verifiers);
    if (expectations.platform !== undefined && p !== expectations.platform)
      throw usage(
        'tee verify',
        `${expectations.flags.join(', ')} check ${expectations.platform} evidence; this evidence is ${p}`,
      );
    return verifierFor(p, verifiers).verify(evidence, options);
  });
  const final: TeeVerdict = extraChecks.length
    ? {
        ...verdict,
        ok: verdict.ok && extraChecks.every((c) => c.ok),
        checks: [...extraChecks, ...verdict.checks],
      }
    : verdict;
  if (values['predicate-out'] !== undefined) {
    const predicate: TeePredicate = {
      platform: final.platform,
      evidence: { mediaType: mediaTypeOf(final.platform), data: evidence.toString('base64') },
      ...(fromProvenance
        ? {
            binding: {
              scheme: TEE_BINDING_V1,
              ...bindingShape(final.platform),
              value: fromProvenance.recorded,
            },
          }
        : {}),
      verification: {
        verifier: `vouch ${packageVersion()}`,
        at: at.toISOString(),
        ok: final.ok,
        checks: final.checks,
        claims: final.claims,
      },
    };
    await writeFileAtomic(path(values['predicate-out']), `${JSON.stringify(predicate, null, 2)}\n`);
  }
  if (values.json) printJson(io, { evidence: file, at: at.toISOString(), ...final });
  else printVerdict(io, file, at, final);
  return final.ok ? 0 : 1;
}

interface ProvenanceEvidence {
  platform: TeePlatform;
  evidence: Buffer;
  recorded: string;
  inputs: NonNullable<ReturnType<typeof bindingInputsOf>>;
}

/** The tee byproduct of a provenance bundle or Statement, or undefined when the file is not one. */
function provenanceEvidence(bytes: Buffer, file: string): ProvenanceEvidence | undefined {
  if (bytes[0] !== 0x7b || !(bytes.includes(TEE_BYPRODUCT_URI) || bytes.includes('"dsseEnvelope"')))
    return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  const env = (doc as { dsseEnvelope?: { payload?: unknown } }).dsseEnvelope;
  let statement: unknown = doc;
  if (env && typeof env.payload === 'string') {
    try {
      statement = JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8'));
    } catch (e) {
      throw new VouchError(
        'TEE_MALFORMED',
        `bundle payload is not a JSON Statement: ${errorMessage(e)}`,
        { file, field: '/dsseEnvelope/payload' },
      );
    }
  }
  const predicate = (statement as { predicate?: unknown }).predicate;
  const byproducts = (predicate as { runDetails?: { byproducts?: unknown } })?.runDetails
    ?.byproducts;
  const tee = Array.isArray(byproducts)
    ? byproducts.find((b) => b?.uri === TEE_BYPRODUCT_URI)
    : undefined;
  if (!tee) return undefined;
  const a = tee.annotations as {
    platform?: unknown;
    binding?: { value?: unknown };
    evidence?: { data?: unknown };
  };
  const inputs = bindingInputsOf(predicate);
  if (
    !inputs ||
    typeof a?.platform !== 'string' ||
    !(TEE_PLATFORMS as readonly string[]).includes(a.platform) ||
    typeof a.binding?.value !== 'string' ||
    typeof a.evidence?.data !== 'string'
  )
    throw new VouchError(
      'TEE_MALFORMED',
      'the tee byproduct needs platform, binding.value and evidence.data, and the provenance its command, resolvedDependencies and startedOn',
      {
        file,
        field: '/predicate/runDetails/byproducts',
      },
    );
  return {
    platform: a.platform as TeePlatform,
    evidence: Buffer.from(a.evidence.data, 'base64'),
    recorded: a.binding.value,
    inputs,
  };
}

function printVerdict(io: Io, file: string, at: Date, v: TeeVerdict): void {
  const warnings = v.checks.filter((x) => x.level === 'warning').length;
  io.stdout(`${file}  ${v.platform}  (at ${at.toISOString()})\n`);
  for (const c of v.checks)
    io.stdout(`  ${c.ok ? '✓' : c.level === 'warning' ? '!' : '✗'} ${c.name}: ${c.detail}\n`);
  const c = v.claims;
  for (const k of ['measurement', 'reportData', 'nonce', 'debug', 'product'] as const) {
    const text = String(c[k] ?? '');
    if (text !== '')
      io.stdout(
        `  ${k}: ${text.length > 96 ? `${text.slice(0, 96)}… (${text.length / 2} bytes)` : text}\n`,
      );
  }
  io.stdout(
    `${v.ok ? 'VERIFIED' : 'NOT VERIFIED'}: ${v.checks.filter((x) => x.ok).length} of ${v.checks.length} check(s) passed${warnings ? `, ${warnings} warning(s)` : ''}\n`,
  );
}

function mediaTypeOf(platform: TeePlatform): string {
  switch (platform) {
    case 'sev-snp':
      return 'application/vnd.amd.sev-snp.report';
    case 'tdx':
      return 'application/vnd.intel.tdx.quote';
    case 'nitro':
      return 'application/vnd.aws.nitro.attestation+cbor';
    case 'tpm':
      return 'application/vnd.vouch.tpm-quote+json';
  }
}

function hexFlag(flag: string, value: string): Buffer {
  const clean = value.replace(/^0x/i, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(clean))
    throw usage('tee verify', `${flag} ${JSON.stringify(value)} is not hex`);
  return Buffer.from(clean, 'hex');
}

async function readInput(abs: string, shown: string): Promise<Buffer> {
  try {
    const s = await stat(abs);
    if (!s.isFile()) throw new VouchError('FILE_READ', 'not a regular file', { file: shown });
    if (s.size > MAX_EVIDENCE)
      throw new VouchError('TEE_MALFORMED', `${s.size} bytes (limit ${MAX_EVIDENCE})`, {
        file: shown,
      });
    return await readFile(abs);
  } catch (e) {
    if (isVouchError(e)) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new VouchError('FILE_NOT_FOUND', 'no such file', { file: shown });
    throw new VouchError('FILE_READ', errorMessage(e), { file: shown, cause: e });
  }
}

/** Runs `fn`; a VouchError without a file gets `file` (verifiers do not know file names). */
function withFile<T>(file: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw named(e, file);
  }
}

async function withFileAsync<T>(file: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw named(e, file);
  }
}

/**
 * Verifiers name evidence generically; the user knows it by the file they gave.
 * An error that already names an absolute path is about a collateral file (CRL,
 * TCB info, QE identity) or directory the CLI resolved, and keeps that name.
 */
function named(e: unknown, file: string): unknown {
  if (isVouchError(e) && e.file !== file && !(e.file !== undefined && isAbsolute(e.file)))
    return new VouchError(e.code, e.message, { file, cause: e });
  return e;
}

/** A --cert-chain / --root file, refused here (naming it) when it holds no certificate. */
async function readCertificates(abs: string, shown: string): Promise<Buffer> {
  const data = await readInput(abs, shown);
  try {
    parseCertificates(data, 'certificates');
  } catch (e) {
    const reason = errorMessage(e).replace(/^certificates: /, '');
    throw new VouchError('TEE_MALFORMED', reason, { file: shown, cause: e });
  }
  return data;
}
