/**
 * A fault-injecting HTTP proxy for tests: it sits between a client and a real server
 * on 127.0.0.1, forwards requests unchanged (the Host header included, so SigV4
 * signatures still verify) and, when a rule matches, misbehaves the way networks do:
 * an error status, a reset after N bytes, a stall, a truncated body, a dropped upload.
 * It also counts what crossed it, so tests can measure bytes on the wire.
 */
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Fault =
  /** Answer with this status (and an S3-style error body) instead of forwarding, `afterMs` late. */
  | { kind: 'status'; status: number; code?: string; afterMs?: number }
  /** Forward, but destroy the client connection after this many response body bytes. */
  | { kind: 'reset-response'; afterBytes: number }
  /** Read this many request body bytes, then destroy the connection (a dropped upload). */
  | { kind: 'reset-request'; afterBytes: number }
  /** Hold the request this long before forwarding (Infinity: until the client gives up). */
  | { kind: 'stall'; ms: number }
  /** Hold the request until {@link FaultProxy.release} (or until the client gives up), then forward it. */
  | { kind: 'hold' }
  /** Forward headers as they are, send only this many body bytes, then close. */
  | { kind: 'truncate'; afterBytes: number };

export interface FaultRule {
  fault: Fault;
  /** Which requests: HTTP method (any when absent). */
  method?: string;
  /** Which requests: a test on the path and query. */
  match?: (url: string, req: http.IncomingMessage) => boolean;
  /** How many matching requests fail; later ones pass. Default 1; Infinity for all. */
  times?: number;
}

export interface ProxyStats {
  requests: number;
  /** Request body bytes forwarded upstream. */
  bytesUp: number;
  /** Response body bytes sent back to clients. */
  bytesDown: number;
  /** Requests per method. */
  byMethod: Record<string, number>;
  /** Every request as `METHOD url`, in the order they arrived. */
  log: string[];
  /** Faults fired. */
  faults: number;
  /** When the first fault fired (ms since the epoch). */
  firstFaultAt?: number;
}

export class FaultProxy {
  readonly #server: http.Server;
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  readonly #sockets = new Set<Socket>();
  #rules: Array<FaultRule & { left: number }> = [];
  #upstream: { host: string; port: number };
  /** Requests held by a `hold` fault, waiting for release(). */
  readonly #held = new Set<() => void>();
  stats: ProxyStats = FaultProxy.#emptyStats();

  private constructor(upstream: { host: string; port: number }) {
    this.#upstream = upstream;
    this.#server = http.createServer((req, res) => this.#handle(req, res));
    this.#server.keepAliveTimeout = 30_000;
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  static #emptyStats(): ProxyStats {
    return { requests: 0, bytesUp: 0, bytesDown: 0, byMethod: {}, log: [], faults: 0 };
  }

  /** Starts a proxy on 127.0.0.1 (a free port) in front of `upstream` (e.g. `http://127.0.0.1:9000`). */
  static async start(upstream: string): Promise<FaultProxy> {
    const url = new URL(upstream);
    const proxy = new FaultProxy({ host: url.hostname, port: Number(url.port || 80) });
    await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  /** The proxy's base URL, to use as the client's endpoint. */
  get url(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** Points the proxy at another upstream (e.g. a restarted server on a new port). */
  retarget(upstream: string): void {
    const url = new URL(upstream);
    this.#upstream = { host: url.hostname, port: Number(url.port || 80) };
  }

  /** Adds a rule; rules are tried in the order added. */
  inject(rule: FaultRule): this {
    this.#rules.push({ ...rule, left: rule.times ?? 1 });
    return this;
  }

  /** Removes every rule. */
  heal(): this {
    this.#rules = [];
    return this;
  }

  /** Forwards every request a `hold` fault is holding. */
  release(): void {
    for (const go of this.#held) go();
    this.#held.clear();
  }

  /** Requests a `hold` fault is holding now. */
  get held(): number {
    return this.#held.size;
  }

  /** Zeroes the counters. */
  resetStats(): void {
    this.stats = FaultProxy.#emptyStats();
  }

  /** Rules that have not fired all their times yet. */
  get pendingRules(): number {
    return this.#rules.filter((r) => r.left > 0).length;
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    this.#agent.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #take(req: http.IncomingMessage): Fault | undefined {
    for (const rule of this.#rules) {
      if (rule.left <= 0) continue;
      if (rule.method && rule.method !== req.method) continue;
      if (rule.match && !rule.match(req.url ?? '/', req)) continue;
      rule.left--;
      this.stats.faults++;
      this.stats.firstFaultAt ??= Date.now();
      return rule.fault;
    }
    return undefined;
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.stats.requests++;
    this.stats.byMethod[req.method ?? '?'] = (this.stats.byMethod[req.method ?? '?'] ?? 0) + 1;
    this.stats.log.push(`${req.method} ${req.url}`);
    const fault = this.#take(req);

    if (fault?.kind === 'status') {
      req.resume();
      if (fault.afterMs) await new Promise((r) => setTimeout(r, fault.afterMs));
      if (req.socket.destroyed) return;
      const code = fault.code ?? (fault.status === 503 ? 'SlowDown' : 'InternalError');
      const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>injected fault</Message></Error>`;
      res.writeHead(fault.status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    if (fault?.kind === 'stall') {
      const stalled = await new Promise<boolean>((resolve) => {
        const timer = Number.isFinite(fault.ms) ? setTimeout(() => resolve(true), fault.ms) : undefined;
        req.socket.once('close', () => {
          if (timer) clearTimeout(timer);
          resolve(false);
        });
      });
      if (!stalled) return;
    }
    if (fault?.kind === 'hold') {
      const released = await new Promise<boolean>((resolve) => {
        const go = () => resolve(true);
        this.#held.add(go);
        req.socket.once('close', () => {
          this.#held.delete(go);
          resolve(false);
        });
      });
      if (!released) return;
    }

    const upstream = http.request({
      host: this.#upstream.host,
      port: this.#upstream.port,
      method: req.method,
      path: req.url,
      headers: req.headers,
      agent: this.#agent,
    });
    upstream.on('error', () => {
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end('upstream unreachable');
      } else {
        res.destroy();
      }
    });

    let up = 0;
    req.on('data', (chunk: Buffer) => {
      up += chunk.length;
      this.stats.bytesUp += chunk.length;
      if (fault?.kind === 'reset-request' && up >= fault.afterBytes) {
        upstream.destroy();
        req.socket.destroy();
        return;
      }
      if (!upstream.write(chunk)) {
        req.pause();
        upstream.once('drain', () => req.resume());
      }
    });
    req.on('end', () => upstream.end());
    req.on('aborted', () => upstream.destroy());

    upstream.on('response', (answer) => {
      const limit = fault?.kind === 'reset-response' || fault?.kind === 'truncate' ? fault.afterBytes : Infinity;
      if (fault?.kind === 'reset-response' && limit <= 0) {
        // The connection dies before the answer: the client sees a reset, not a response.
        answer.destroy();
        req.socket.resetAndDestroy();
        return;
      }
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.headers);
      let down = 0;
      answer.on('data', (chunk: Buffer) => {
        if (down >= limit) return;
        const part = down + chunk.length > limit ? chunk.subarray(0, limit - down) : chunk;
        down += part.length;
        this.stats.bytesDown += part.length;
        const ok = res.write(part);
        if (down >= limit) {
          answer.destroy();
          // A reset tears the connection down; a truncation ends it cleanly, short of Content-Length.
          if (fault?.kind === 'reset-response') res.socket?.resetAndDestroy?.() ?? res.destroy();
          else res.socket?.end();
          return;
        }
        if (!ok) {
          answer.pause();
          res.once('drain', () => answer.resume());
        }
      });
      answer.on('end', () => {
        if (down < limit) res.end();
        else if (limit === 0) res.socket?.end();
      });
      answer.on('error', () => res.destroy());
    });
  }
}
