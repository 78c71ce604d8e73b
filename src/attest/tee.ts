import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VouchError } from '../core/errors.ts';
import type { Statement } from '../core/statement.ts';
import {
  type BindingInputs,
  bindingShape,
  bindingValue,
  parsePcrFile,
  TEE_BINDING_V1,
  TEE_BYPRODUCT_URI,
  TEE_PLATFORMS,
  type TeeBinding,
  type TeeEvidence,
  type TeePlatform,
  TPM_EVIDENCE_FORMAT,
  type TpmEvidenceJson,
} from '../tee/index.ts';
import type { AttestationContext, Attestor } from './attestor.ts';
import { run } from './exec.ts';
import type { ProvenancePredicate } from './predicate.ts';
import { fileUri } from './provenance.ts';
import { redactArgv } from './secrets.ts';

/**
 * The TEE attestor of `vouch run --tee <platform>`: after the command, it asks
 * the platform for fresh evidence whose nonce / report data is the binding
 * (tee/predicate.ts, scheme v1) of the provenance being built — the command,
 * the materials and the start time, exactly as the provenance records them —
 * so a verifier can recompute it from the signed provenance alone.
 *
 * Evidence sources: a TPM 2.0 through tpm2-tools (TPM2TOOLS_TCTI or the
 * kernel resource manager), SEV-SNP and TDX through Linux configfs-tsm. Nitro
 * needs the NSM ioctl on /dev/nsm, which Node cannot issue without a native
 * addon: it is reported as unavailable, never faked.
 */
export interface TeeAttestation {
  platform: TeePlatform;
  binding: TeeBinding;
  evidence: TeeEvidence;
}

export type TeeRequest = TeePlatform | 'auto';

export const TSM_REPORT_DIR = '/sys/kernel/config/tsm/report';

export function teeAttestor(request: TeeRequest): Attestor<TeeAttestation> {
  return {
    name: 'tee',
    phase: 'after',
    async attest(ctx) {
      const platform = request === 'auto' ? detectLocalTee(ctx.env) : request;
      const inputs = bindingInputsFromContext(ctx);
      const shape = bindingShape(platform);
      const value = bindingValue(inputs, shape.algorithm);
      ctx.log(
        `vouch run: tee: requesting ${platform} evidence bound to ${shape.algorithm}:${value.toString('hex').slice(0, 16)}…`,
      );
      const evidence = await obtain(platform, value, ctx);
      return {
        platform,
        binding: { scheme: TEE_BINDING_V1, ...shape, value: value.toString('hex') },
        evidence,
      };
    },
  };
}

/** Records the TEE attestation as a provenance byproduct (before signing). */
export function addTeeByproduct(
  statement: Statement<ProvenancePredicate>,
  tee: TeeAttestation,
): void {
  const predicate = statement.predicate;
  if (!predicate)
    throw new VouchError('USAGE', 'provenance has no predicate to add the tee byproduct to');
  predicate.runDetails.byproducts = [
    ...(predicate.runDetails.byproducts ?? []),
    {
      name: 'tee',
      uri: TEE_BYPRODUCT_URI,
      mediaType: 'application/json',
      annotations: tee as unknown as Record<string, unknown>,
    },
  ];
}

/** The same fields the provenance will carry (see provenance.ts), so the binding can be recomputed from it. */
function bindingInputsFromContext(ctx: AttestationContext): BindingInputs {
  if (!ctx.result)
    throw new VouchError('USAGE', 'tee attestor needs the command result (phase "after")');
  return {
    command: redactArgv(ctx.argv).argv,
    materials: [...(ctx.materials ?? new Map())].map(([path, digest]) => ({
      uri: fileUri(path),
      digest,
    })),
    startedOn: ctx.result.startedOn,
  };
}

function unavailable(message: string): VouchError {
  return new VouchError('TEE_UNAVAILABLE', message, { field: '--tee' });
}

/**
 * Which TEE this machine offers: configfs-tsm (SEV-SNP or TDX guest), the
 * Nitro NSM device, or a TPM (a TCTI in the environment or /dev/tpmrm0).
 *
 * @throws VouchError TEE_UNAVAILABLE when there is none
 */
export function detectLocalTee(env: NodeJS.ProcessEnv): TeePlatform {
  if (existsSync('/dev/sev-guest')) return 'sev-snp';
  if (existsSync('/dev/tdx_guest')) return 'tdx';
  if (existsSync('/dev/nsm')) return 'nitro';
  if (env.TPM2TOOLS_TCTI || existsSync('/dev/tpmrm0')) return 'tpm';
  throw unavailable(
    'no trusted execution environment found (no /dev/sev-guest, /dev/tdx_guest, /dev/nsm, /dev/tpmrm0 or TPM2TOOLS_TCTI); nothing was recorded',
  );
}

async function obtain(
  platform: TeePlatform,
  value: Buffer,
  ctx: AttestationContext,
): Promise<TeeEvidence> {
  switch (platform) {
    case 'tpm':
      return tpmQuote(value, ctx);
    case 'sev-snp':
    case 'tdx':
      return tsmReport(platform, value);
    case 'nitro':
      throw unavailable(
        "Nitro attestation documents come from the NSM ioctl on /dev/nsm, which needs a native helper; run the enclave's own attestation client and verify its document with `vouch tee verify`",
      );
  }
}

/**
 * A configfs-tsm report (Linux 6.7+): write the 64-byte report data to
 * inblob, read outblob. The raw SEV-SNP report or TDX quote is the evidence.
 */
async function tsmReport(platform: 'sev-snp' | 'tdx', reportData: Buffer): Promise<TeeEvidence> {
  if (!existsSync(TSM_REPORT_DIR))
    throw unavailable(
      `${TSM_REPORT_DIR} does not exist (configfs-tsm needs Linux 6.7+ in a ${platform} guest)`,
    );
  const dir = join(TSM_REPORT_DIR, `vouch-${process.pid}-${Date.now()}`);
  try {
    await mkdir(dir);
    const provider = (await readFile(join(dir, 'provider'), 'utf8')).trim();
    const want = platform === 'sev-snp' ? 'sev_guest' : 'tdx_guest';
    if (provider !== want) throw unavailable(`configfs-tsm provider is ${provider}, not ${want}`);
    await writeFile(join(dir, 'inblob'), reportData);
    const out = await readFile(join(dir, 'outblob'));
    return {
      mediaType:
        platform === 'sev-snp'
          ? 'application/vnd.amd.sev-snp.report'
          : 'application/vnd.intel.tdx.quote',
      data: out.toString('base64'),
    };
  } catch (e) {
    if (e instanceof VouchError) throw e;
    throw unavailable(`configfs-tsm report failed: ${(e as Error).message}`);
  } finally {
    await rmdir(dir).catch(() => {});
  }
}

/**
 * A TPM 2.0 quote through tpm2-tools. The attestation key is the persistent
 * handle or context file in VOUCH_TPM_AK (provisioned and certified once per
 * machine), else a fresh AK under the endorsement key (trusted only if the
 * verifier is told its public key). PCRs: VOUCH_TPM_PCRS, default sha256:0-7.
 */
async function tpmQuote(nonce: Buffer, ctx: AttestationContext): Promise<TeeEvidence> {
  const env = ctx.env;
  const dir = await mkdtemp(join(tmpdir(), 'vouch-tpm-'));
  const tool = async (args: string[]) => {
    const r = await run(args[0] as string, args.slice(1), { cwd: dir, env });
    if (!r.ok)
      throw unavailable(
        `${args[0]} failed: ${r.stderr.trim().split('\n').slice(-2).join(' ') || 'no TPM?'}`,
      );
    // No resource manager on a bare TCTI: transient objects and sessions must not pile up.
    await run('tpm2_flushcontext', ['-t'], { cwd: dir, env });
    await run('tpm2_flushcontext', ['-s'], { cwd: dir, env });
    return r.stdout;
  };
  try {
    const pcrs = env.VOUCH_TPM_PCRS ?? 'sha256:0,1,2,3,4,5,6,7';
    let ak = env.VOUCH_TPM_AK;
    if (ak) {
      await tool(['tpm2_readpublic', '-c', ak, '-f', 'pem', '-o', 'ak.pem']);
    } else {
      await tool(['tpm2_createek', '-c', 'ek.ctx', '-G', 'ecc']);
      await tool([
        'tpm2_createak',
        '-C',
        'ek.ctx',
        '-c',
        'ak.ctx',
        '-G',
        'ecc',
        '-g',
        'sha256',
        '-s',
        'ecdsa',
        '-u',
        'ak.pem',
        '-f',
        'pem',
      ]);
      ak = 'ak.ctx';
    }
    const out = await tool([
      'tpm2_quote',
      '-c',
      ak,
      '-l',
      pcrs,
      '-q',
      nonce.toString('hex'),
      '-m',
      'quote.msg',
      '-s',
      'quote.sig',
      // PCR values are printed only when they are also written out.
      '-o',
      'quote.pcrs',
      '-g',
      'sha256',
    ]);
    const values = parsePcrFile(out.slice(out.indexOf('pcrs:')), 'tpm2_quote output');
    const json: TpmEvidenceJson = {
      format: TPM_EVIDENCE_FORMAT,
      quote: (await readFile(join(dir, 'quote.msg'))).toString('base64'),
      signature: (await readFile(join(dir, 'quote.sig'))).toString('base64'),
      pcrs: Object.fromEntries(
        [...values].map(([bank, m]) => [
          bank,
          Object.fromEntries([...m].map(([i, v]) => [String(i), v.toString('hex')])),
        ]),
      ),
      akPublicKey: await readFile(join(dir, 'ak.pem'), 'utf8'),
    };
    return {
      mediaType: 'application/vnd.vouch.tpm-quote+json',
      data: Buffer.from(JSON.stringify(json)).toString('base64'),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Parses a `--tee` value. @throws VouchError USAGE */
export function parseTeeRequest(value: string): TeeRequest {
  if (value === 'auto' || (TEE_PLATFORMS as readonly string[]).includes(value))
    return value as TeeRequest;
  throw new VouchError(
    'USAGE',
    `--tee ${JSON.stringify(value)}: expected auto, ${TEE_PLATFORMS.join(', ')}`,
    { field: '--tee' },
  );
}
