import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { errorMessage, VouchError } from '../core/errors.ts';

export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH';
  url: URL;
  headers?: Record<string, string>;
  body?: Uint8Array | undefined;
  /** Whole exchange, connect to last byte. */
  timeoutMs: number;
  /** The body is cut off with OCI_TOO_LARGE past this many bytes. */
  maxBytes: number;
  /** Extra CA certificates (PEM), added to Node's roots. */
  ca?: string[] | undefined;
  /** When set, the body must hash to this `sha256:<hex>` (checked while streaming). */
  expectDigest?: string | undefined;
  /** What is being fetched, for messages. */
  what: string;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** `sha256:<hex>` of body. */
  digest: string;
}

/**
 * One HTTP exchange with hard limits: a timeout over the whole exchange (a
 * slow registry fails instead of hanging), a byte cap checked as data
 * arrives (a huge response is cut off, never buffered), and a digest checked
 * over the exact bytes received. Redirects are returned, not followed.
 *
 * @throws VouchError OCI_REGISTRY_UNAVAILABLE | OCI_TOO_LARGE | OCI_DIGEST_MISMATCH
 */
export function httpRequest(req: HttpRequest): Promise<HttpResponse> {
  return new Promise((resolvePromise, rejectPromise) => {
    const lib = req.url.protocol === 'http:' ? http : https;
    let settled = false;
    const done = (err: VouchError | undefined, res?: HttpResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        request.destroy();
        rejectPromise(err);
      } else resolvePromise(res as HttpResponse);
    };
    const headers: Record<string, string> = { 'User-Agent': 'vouch', ...req.headers };
    if (req.body) headers['Content-Length'] = String(req.body.length);
    const request = lib.request(req.url, {
      method: req.method,
      headers,
      ...(req.url.protocol === 'https:' && req.ca ? { ca: req.ca } : {}),
      agent: false,
    });
    const timer = setTimeout(
      () =>
        done(
          new VouchError(
            'OCI_REGISTRY_UNAVAILABLE',
            `${req.what}: no complete answer from ${req.url.host} within ${req.timeoutMs} ms`,
          ),
        ),
      req.timeoutMs,
    );
    request.on('error', (e) =>
      done(
        new VouchError(
          'OCI_REGISTRY_UNAVAILABLE',
          `${req.what}: cannot reach ${req.url.host}: ${errorMessage(e)}`,
          { cause: e },
        ),
      ),
    );
    request.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const declared = Number(res.headers['content-length'] ?? Number.NaN);
      if (req.method !== 'HEAD' && Number.isFinite(declared) && declared > req.maxBytes) {
        done(tooLarge(req, `declares ${declared} bytes`));
        return;
      }
      const hash = createHash('sha256');
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > req.maxBytes) {
          done(tooLarge(req, `sent more than ${req.maxBytes} bytes`));
          return;
        }
        hash.update(chunk);
        chunks.push(chunk);
      });
      res.on('error', (e) =>
        done(
          new VouchError(
            'OCI_REGISTRY_UNAVAILABLE',
            `${req.what}: connection to ${req.url.host} broke: ${errorMessage(e)}`,
          ),
        ),
      );
      res.on('end', () => {
        const digest = `sha256:${hash.digest('hex')}`;
        const ok2xx = status >= 200 && status < 300;
        if (ok2xx && req.method !== 'HEAD' && req.expectDigest && req.expectDigest !== digest) {
          done(
            new VouchError(
              'OCI_DIGEST_MISMATCH',
              `${req.what}: ${req.url.host} served content with digest ${digest}, not the requested ${req.expectDigest}: rejected`,
            ),
          );
          return;
        }
        done(undefined, { status, headers: res.headers, body: Buffer.concat(chunks), digest });
      });
    });
    request.end(req.body ? Buffer.from(req.body) : undefined);
  });
}

function tooLarge(req: HttpRequest, why: string): VouchError {
  return new VouchError(
    'OCI_TOO_LARGE',
    `${req.what}: ${req.url.host} ${why}; the limit is ${req.maxBytes} bytes: rejected`,
  );
}

/** Parses `Bearer realm="…",service="…",scope="…"` (or `Basic realm=…`). */
export function parseChallenge(
  header: string | undefined,
): { scheme: string; params: Record<string, string> } | undefined {
  if (!header) return undefined;
  const m = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?/g;
  for (const p of (m[2] ?? '').matchAll(re)) {
    params[(p[1] as string).toLowerCase()] = (p[2] ?? p[3] ?? '').replace(/\\(.)/g, '$1');
  }
  return { scheme: (m[1] as string).toLowerCase(), params };
}
