import { Agent as HttpAgent, type AgentOptions, type ClientRequestArgs } from 'node:http';
import { Agent as HttpsAgent, type RequestOptions } from 'node:https';
import { type Duplex, Readable } from 'node:stream';
import type { NodeHttpHandler } from '@smithy/node-http-handler';

/** Seconds to open a connection, as on the native path (crates/core transport.rs). */
export const DEFAULT_CONNECT_TIMEOUT = 10;
/** Seconds without a byte sent or received before an attempt fails, as on the native path. */
export const DEFAULT_READ_TIMEOUT = 60;

export interface HttpHandlerOptions {
  /** Connections per host. */
  maxSockets: number;
  /** PEM CA bundle for https. */
  ca?: Buffer;
  /** false: TLS certificates are not checked (client_options verify: false). */
  tlsVerify?: boolean;
  /** Seconds (default {@link DEFAULT_CONNECT_TIMEOUT}). */
  connectTimeout?: number;
  /** Seconds of silence on an open connection (default {@link DEFAULT_READ_TIMEOUT}). */
  readTimeout?: number;
}

/**
 * The SDK's request handler for both S3 backends' control path: a stall always ends (connect
 * and idle-read timeouts by default, the same as the native path), and no socket error can
 * crash the process.
 *
 * Why the sockets get an error listener of their own: when a server answers a PUT before it
 * has read the body (a refused signature, a failed `If-None-Match`, an `Expect: 100-continue`
 * answered with an error) and closes the connection, Node's http client detaches from the
 * socket once the answer is complete, while the body is still being written. The write then
 * fails with EPIPE/ECONNRESET on a socket nobody listens to, an unhandled 'error' event that
 * kills the process (try/catch cannot stop it). The request's own promise has already settled
 * with the server's answer; a late error on its socket has nothing left to report.
 */
export function createHttpHandler(Handler: typeof NodeHttpHandler, options: HttpHandlerOptions): NodeHttpHandler {
  // As many idle sockets kept as may be open: a burst of requests does not reconnect.
  const agentOptions: AgentOptions = { keepAlive: true, maxSockets: options.maxSockets, maxFreeSockets: options.maxSockets, keepAliveMsecs: 1000 };
  class SlicedBodyHandler extends Handler {
    override handle(request: HttpRequest, handlerOptions?: Parameters<NodeHttpHandler['handle']>[1]): ReturnType<NodeHttpHandler['handle']> {
      return super.handle(withSlicedBody(request), handlerOptions);
    }
  }
  return new SlicedBodyHandler({
    httpAgent: new GuardedHttpAgent(agentOptions),
    httpsAgent: new GuardedHttpsAgent({
      ...agentOptions,
      ...(options.ca ? { ca: options.ca } : {}),
      ...(options.tlsVerify === false ? { rejectUnauthorized: false } : {}),
    }),
    connectionTimeout: (options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT) * 1000,
    // Idle time on the socket, not a bound on the whole request: a large body may take long.
    socketTimeout: (options.readTimeout ?? DEFAULT_READ_TIMEOUT) * 1000,
    requestTimeout: 0,
  });
}

/** Bytes a request body hands the socket per turn of the event loop. */
export const BODY_SLICE = 512 << 10;

/**
 * A body in memory larger than {@link BODY_SLICE} goes to the socket one slice per turn of the
 * event loop. Node writes a Buffer body with one `writev`, and on loopback the kernel takes
 * megabytes in that call, processing them for the receiver too: one 8 MiB part held the event
 * loop 15 ms. Slices are views of the same memory, and each attempt gets a stream of its own,
 * so the SDK's retries still resend the whole body.
 */
function withSlicedBody(request: HttpRequest): HttpRequest {
  const body: unknown = request.body;
  if (!(body instanceof Uint8Array) || body.byteLength <= BODY_SLICE) return request;
  const sliced = request.clone();
  sliced.body = slicedStream(body);
  return sliced;
}

function slicedStream(bytes: Uint8Array): Readable {
  let offset = 0;
  return new Readable({
    highWaterMark: BODY_SLICE,
    read() {
      if (offset >= bytes.byteLength) {
        this.push(null);
        return;
      }
      const slice = bytes.subarray(offset, offset + BODY_SLICE);
      offset += slice.byteLength;
      setImmediate(() => this.push(slice));
    },
  });
}

type HttpRequest = Parameters<NodeHttpHandler['handle']>[0];

function guard<T extends Duplex | null | undefined>(socket: T): T {
  socket?.on('error', ignoreLateSocketError);
  return socket;
}

/** See {@link createHttpHandler}: while a request owns the socket, its own listener reports the error. */
function ignoreLateSocketError(): void {}

class GuardedHttpAgent extends HttpAgent {
  override createConnection(options: ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    return guard(super.createConnection(options, callback));
  }
}

class GuardedHttpsAgent extends HttpsAgent {
  override createConnection(options: RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    return guard(super.createConnection(options, callback));
  }
}
