import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { errorMessage, VouchError } from '../../core/errors.ts';
import { formatProblems, loadPolicy, parseDuration } from '../../policy/index.ts';
import {
  AdmissionGate,
  type AdmissionMode,
  createAdmissionServer,
  EVIDENCE_SOURCES,
  reloadTls,
  type TlsFiles,
} from '../../server/index.ts';
import { parse, usage } from '../args.ts';
import type { Command } from './command.ts';

const HELP = `Usage: vouch serve --admission --policy P.yaml --tls-cert F --tls-key F [options]

Runs the Kubernetes admission webhook: HTTPS, AdmissionReview v1 on
POST /validate, with /healthz, /readyz and /metrics (Prometheus). Every
container, initContainer and ephemeral container image of Pods and
pod-bearing workloads is verified against the policy; anything that cannot
be decided in time is denied. One JSON log line per decision on stdout.

Options:
  --admission                serve the admission webhook (required)
  --policy FILE              the policy every image must satisfy
  --tls-cert FILE            PEM certificate chain (reloaded when the file changes)
  --tls-key FILE             PEM private key
  --port N                   port to listen on (default 8443; 0 picks a free one)
  --host ADDR                address to listen on (default 0.0.0.0)
  --mode enforce|warn        enforce denies; warn allows with warnings (default enforce)
  --namespaces a,b           gate only these namespaces
  --exclude-namespaces a,b   never gate these namespaces
  --images GLOB              gate only images whose registry/repository matches
                             (repeatable; * within a path component, ** across)
  --timeout-ms N             budget per request, denied when exceeded (default 8000;
                             keep it below the webhook's timeoutSeconds)
  --max-in-flight N          requests decided at once; more are denied as
                             overloaded (default 64)
  --cache-ttl DURATION       longest an allow is cached, e.g. 5m (default 5m)
  --evidence SOURCE          store:DIR (offline directory store) or registry (default)
  --insecure-registry        plain HTTP to localhost registries (tests only)
  --registry-ca FILE         extra CA certificates for registry TLS
  --json                     the start-up line as JSON on stdout (logs are JSON lines)
  -h, --help                 this help

Exit codes: 0 stopped by SIGTERM/SIGINT, 2 bad options, policy or TLS files.`;

const list = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function positiveInt(
  name: string,
  text: string | undefined,
  fallback: number,
  max: number,
  min = 1,
): number {
  if (text === undefined) return fallback;
  if (!/^[0-9]{1,9}$/.test(text) || Number(text) < min || Number(text) > max)
    throw usage(
      'serve',
      `--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`,
    );
  return Number(text);
}

function readTls(certFile: string, keyFile: string): TlsFiles {
  const read = (file: string, label: string) => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'FILE_READ';
      throw new VouchError(code, `cannot read ${label}: ${errorMessage(e)}`, { file });
    }
    if (!text.includes('-----BEGIN '))
      throw new VouchError('FILE_READ', `${label} is not PEM`, { file });
    return text;
  };
  const cert = read(certFile, 'TLS certificate');
  const key = read(keyFile, 'TLS key');
  try {
    new X509Certificate(cert);
  } catch (e) {
    throw new VouchError(
      'FILE_READ',
      `TLS certificate is not a PEM certificate: ${errorMessage(e)}`,
      {
        file: certFile,
      },
    );
  }
  try {
    createPrivateKey(key);
  } catch (e) {
    throw new VouchError(
      'FILE_READ',
      `TLS key is not an unencrypted PEM private key: ${errorMessage(e)}`,
      {
        file: keyFile,
      },
    );
  }
  return { cert, key };
}

export const serveCommand: Command = {
  name: 'serve',
  help: HELP,
  async run(argv, io) {
    const { values, positionals } = parse('serve', argv, {
      admission: { type: 'boolean' },
      policy: { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      mode: { type: 'string' },
      namespaces: { type: 'string' },
      'exclude-namespaces': { type: 'string' },
      images: { type: 'string', multiple: true },
      'timeout-ms': { type: 'string' },
      'max-in-flight': { type: 'string' },
      'cache-ttl': { type: 'string' },
      evidence: { type: 'string' },
      'insecure-registry': { type: 'boolean' },
      'registry-ca': { type: 'string' },
    });
    if (values.help) {
      io.stdout(`${HELP}\n`);
      return 0;
    }
    if (positionals.length > 0) throw usage('serve', `unexpected argument ${positionals[0]}`);
    if (!values.admission)
      throw usage('serve', 'give --admission (the admission webhook is what serve runs today)');
    for (const f of ['policy', 'tls-cert', 'tls-key'] as const)
      if (!values[f]) throw usage('serve', `--${f} is required`);
    const mode = (values.mode ?? 'enforce') as AdmissionMode;
    if (mode !== 'enforce' && mode !== 'warn')
      throw usage('serve', `--mode must be enforce or warn, got ${JSON.stringify(values.mode)}`);
    const port = positiveInt('port', values.port, 8443, 65535, 0);
    const timeoutMs = positiveInt('timeout-ms', values['timeout-ms'], 8000, 29_000);
    const maxInFlight = positiveInt('max-in-flight', values['max-in-flight'], 64, 100_000);
    let cacheTtlMs = 5 * 60_000;
    if (values['cache-ttl'] !== undefined) {
      try {
        cacheTtlMs = parseDuration(values['cache-ttl']);
      } catch {
        throw usage('serve', `--cache-ttl must be a duration like 30s, 5m or 1h`);
      }
    }
    const evidence = values.evidence ?? 'registry';
    const colon = evidence.indexOf(':');
    const kindName = colon === -1 ? evidence : evidence.slice(0, colon);
    const argument = colon === -1 ? '' : evidence.slice(colon + 1);
    const kind = EVIDENCE_SOURCES.find((k) => k.kind === kindName);
    if (!kind || (kind.kind === 'store' && argument === ''))
      throw usage(
        'serve',
        `--evidence must be one of: ${EVIDENCE_SOURCES.map((k) => k.usage).join('; ')}`,
      );
    if (kind.kind === 'store') storeMustExist(resolve(io.cwd, argument), argument);
    const source = kind.create(kind.kind === 'store' ? resolve(io.cwd, argument) : argument, {
      insecure: values['insecure-registry'] ?? false,
      caFile: values['registry-ca'] && resolve(io.cwd, values['registry-ca']),
      // One registry request may use the whole budget, never more.
      timeoutMs,
      warn: (m) => io.stderr(`${m}\n`),
    });
    if (values['insecure-registry'])
      io.stderr('vouch serve: warning: --insecure-registry: plain HTTP to localhost registries\n');

    const policyFile = resolve(io.cwd, values.policy as string);
    const parsed = await loadPolicy(policyFile);
    if (!parsed.ok) {
      io.stderr(formatProblems(values.policy as string, parsed.problems));
      throw new VouchError(
        'POLICY_MALFORMED',
        `${parsed.problems.length} problem(s) in the policy`,
        { file: values.policy },
      );
    }
    const certFile = resolve(io.cwd, values['tls-cert'] as string);
    const keyFile = resolve(io.cwd, values['tls-key'] as string);
    const tls = readTls(certFile, keyFile);

    const gate = new AdmissionGate({
      policy: parsed.policy,
      source,
      mode,
      timeoutMs,
      maxInFlight,
      cacheTtlMs,
      namespaces: list(values.namespaces),
      excludeNamespaces: list(values['exclude-namespaces']),
      images: values.images ?? [],
      log: (line) => io.stdout(`${JSON.stringify(line)}\n`),
    });
    let app: ReturnType<typeof createAdmissionServer>;
    try {
      app = createAdmissionServer({ gate, tls });
    } catch (e) {
      throw new VouchError(
        'FILE_READ',
        `TLS certificate and key do not work together: ${errorMessage(e)}`,
        {
          file: certFile,
        },
      );
    }
    const host = values.host ?? '0.0.0.0';
    try {
      await app.listen({ host, port });
    } catch (e) {
      throw new VouchError(
        'USAGE',
        `vouch serve: cannot listen on ${host}:${port}: ${errorMessage(e)}`,
      );
    }
    const address = app.server.address();
    const bound = typeof address === 'object' && address ? address.port : port;
    const started = {
      msg: 'listening',
      url: `https://${host}:${bound}/validate`,
      mode,
      policy: { name: parsed.policy.name, digest: parsed.policy.digest },
      evidence: source.description,
      timeoutMs,
      maxInFlight,
    };
    if (values.json) io.stdout(`${JSON.stringify(started)}\n`);
    else
      io.stderr(
        `vouch serve: admission webhook on https://${host}:${bound}/validate (${mode}, policy ${parsed.policy.name} ${parsed.policy.digest.slice(0, 19)}…, evidence ${source.description})\n`,
      );

    // cert-manager rotates the certificate in place: pick it up without a restart.
    const mtime = () => `${statSync(certFile).mtimeMs}/${statSync(keyFile).mtimeMs}`;
    let seen = mtime();
    const watcher = setInterval(() => {
      try {
        const now = mtime();
        if (now === seen) return;
        reloadTls(app, readTls(certFile, keyFile));
        seen = now;
        io.stderr('vouch serve: TLS certificate reloaded\n');
      } catch (e) {
        io.stderr(`vouch serve: keeping the old TLS certificate: ${errorMessage(e)}\n`);
      }
    }, 30_000);
    watcher.unref();

    await new Promise<void>((done) => {
      const stop = (signal: string) => {
        io.stderr(`vouch serve: ${signal}, stopping\n`);
        clearInterval(watcher);
        process.off('SIGTERM', onTerm);
        process.off('SIGINT', onInt);
        app.close().then(
          () => done(),
          () => done(),
        );
      };
      const onTerm = () => stop('SIGTERM');
      const onInt = () => stop('SIGINT');
      process.on('SIGTERM', onTerm);
      process.on('SIGINT', onInt);
    });
    return 0;
  },
};

/**
 * `--evidence store:DIR` must name a directory at start-up: a missing one is
 * a typo or a volume that is not mounted, and serving would deny every
 * admission as evidence-unavailable. An empty directory is fine (a mounted
 * volume filled later); one that disappears while serving is
 * evidence-unavailable, as docs/admission.md says.
 *
 * @throws VouchError FILE_NOT_FOUND | FILE_READ
 */
function storeMustExist(path: string, display: string): void {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw new VouchError(
      missing ? 'FILE_NOT_FOUND' : 'FILE_READ',
      missing
        ? `evidence store ${display} does not exist: fill it in CI (vouch attest --store ${display}) or mount it there`
        : `cannot read evidence store ${display}: ${errorMessage(e)}`,
      { file: display, field: '--evidence' },
    );
  }
  if (!isDir)
    throw new VouchError('FILE_READ', `evidence store ${display} is not a directory`, {
      file: display,
      field: '--evidence',
    });
}
