import type { Server } from 'node:https';
import Fastify, { type FastifyInstance } from 'fastify';
import type { AdmissionGate } from './admission/index.ts';
import { PROMETHEUS_CONTENT_TYPE } from './metrics.ts';

export interface TlsFiles {
  cert: string | Buffer;
  key: string | Buffer;
}

export interface AdmissionServerOptions {
  gate: AdmissionGate;
  /** PEM certificate chain and key the API server connects to. */
  tls: TlsFiles;
  /**
   * Largest AdmissionReview accepted. An object is at most ~1.5 MiB in etcd and
   * a review carries the object and the old object: 3 MiB by default.
   */
  bodyLimit?: number;
  /** Open connections accepted; with bodyLimit this bounds memory held by request bodies. */
  maxConnections?: number;
}

export type AdmissionServer = FastifyInstance<Server>;

export const DEFAULT_BODY_LIMIT = 3 * 1024 * 1024;

/**
 * The webhook's HTTPS server: POST /validate (AdmissionReview v1),
 * GET /healthz, /readyz and /metrics. Routes can be added before `listen`
 * (the benchmark adds a bare endpoint beside /validate).
 */
export function createAdmissionServer(options: AdmissionServerOptions): AdmissionServer {
  const app = Fastify({
    https: { cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.2' },
    logger: false,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // A slow client cannot hold a slot for ever.
    requestTimeout: 30_000,
    connectionTimeout: 30_000,
    return503OnClosing: true,
  }) as unknown as AdmissionServer;
  app.server.maxConnections = options.maxConnections ?? 256;
  let closing = false;
  app.addHook('onClose', async () => {
    closing = true;
  });

  app.setErrorHandler((error, _request, reply) => {
    // Body too large, not JSON, wrong content type: say so; never crash, never allow.
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    reply.code(status >= 400 && status < 600 ? status : 500).send({
      error: status < 500 ? 'bad request' : 'internal error',
      message: error instanceof Error ? error.message : String(error),
    });
  });

  app.post('/validate', async (request, reply) => {
    const answer = await options.gate.review(request.body);
    reply.code(answer.status).send(answer.body);
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    if (closing) return reply.code(503).send({ status: 'closing' });
    return { status: 'ready', policy: options.gate.options.policy.digest };
  });
  app.get('/metrics', async (_request, reply) => {
    reply.type(PROMETHEUS_CONTENT_TYPE).send(options.gate.metrics.registry.render());
  });
  return app;
}

/** Swaps the served certificate (cert-manager rotates it in place); new connections use it. */
export function reloadTls(app: AdmissionServer, tls: TlsFiles): void {
  app.server.setSecureContext({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' });
}
