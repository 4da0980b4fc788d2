/**
 * The AWS SDK client of the wing and the one way requests go through it: built on first use
 * (no network I/O at construction), sent with the operation's signal and the policy's
 * timeout, failures mapped by errors.ts. The control path and the SDK data path use it; the
 * native data path uses it for probes and as its credential source.
 */
import { readFileSync } from 'node:fs';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { AbortError, BackendUnavailable, type RemoteStoreError, throwIfAborted } from '../../errors';
import { mapS3Error, withoutExchange, type ErrorContext } from './errors';
import { createHttpHandler } from './http';
import { deadlineError, operationSignal, raceSignals } from './operation';
import type { S3Settings } from './options';
import type { RequestPacer } from './pacing';
import { PolicyRetryStrategy } from './retry-strategy';
import { type CommandName, type Commands, command, loadSdk, loadSdkSync, type SdkModule } from './sdk';
import { applyWriteRules } from './write-headers';

export class SdkClient {
  readonly #settings: S3Settings;
  readonly #errors: ErrorContext;
  readonly #checkOpen: () => void;
  readonly #pacer: RequestPacer;
  #client: S3Client | undefined;

  /**
   * `checkOpen` throws once the backend is closed: no client is rebuilt after close().
   * `pacer` admits each request (pacing.ts), shared with the backend's data path.
   */
  constructor(settings: S3Settings, backend: string, checkOpen: () => void, pacer: RequestPacer) {
    this.#settings = settings;
    this.#errors = { backend, bucket: settings.bucket, endpointUrl: settings.endpointUrl };
    this.#checkOpen = checkOpen;
    this.#pacer = pacer;
  }

  /** The backend's name, as errors carry it. */
  get backend(): string {
    return this.#errors.backend;
  }

  /** The SDK client, built on first use (the SDK is loaded then, see sdk.ts). */
  async client(): Promise<S3Client> {
    this.#checkOpen();
    if (this.#client) return this.#client;
    const sdk = await loadSdk();
    this.#checkOpen(); // closed while the SDK loaded: no client to leak
    this.#client ??= this.#build(sdk);
    return this.#client;
  }

  /** The SDK client now (`unwrap(S3Client)`, whose caller has loaded the SDK). */
  clientSync(): S3Client {
    this.#checkOpen();
    this.#client ??= this.#build(loadSdkSync());
    return this.#client;
  }

  /** Whether `type` is the SDK client class (`unwrap(S3Client)`); loads no SDK for any other class. */
  isClientClass(type: unknown): boolean {
    return (type as { name?: unknown } | undefined)?.name === 'S3Client' && type === loadSdkSync().s3.S3Client;
  }

  /**
   * Configured for speed: checksums only where S3 requires one (DeleteObjects) — a CRC of every
   * body in JavaScript costs the event loop as much as the transfer; TLS and TCP already guard
   * the bytes, as they do for the native path and the Python library — and a keep-alive agent
   * that keeps as many idle sockets as it may open, so a burst of requests does not reconnect.
   * `client_options` (request_checksum_calculation, …) still wins.
   */
  #build(sdk: SdkModule): S3Client {
    const s = this.#settings;
    const clientOptions = s.clientOptions();
    const ca = s.caBundle ? readFileSync(s.caBundle) : undefined;
    const requestHandler = createHttpHandler(sdk.http.NodeHttpHandler, {
      maxSockets: s.maxSockets,
      ca,
      tlsVerify: s.tlsVerify,
      connectTimeout: clientOptions.connectTimeout,
      readTimeout: clientOptions.readTimeout,
    });
    const config: S3ClientConfig = {
      // The resolved middleware stack is kept per command type, for sends without options (no
      // signal): the SDK otherwise rebuilds and sorts it for every request. Our middleware is
      // client-wide (write-headers.ts), so every request still passes through it.
      cacheMiddleware: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      ...(clientOptions.sdkConfig as S3ClientConfig),
      region: s.region(),
      retryStrategy: new PolicyRetryStrategy(s.retry),
      maxAttempts: s.retry.maxAttempts, // shown in the amz-sdk-request header of each attempt
      requestHandler: (clientOptions.sdkConfig.requestHandler as S3ClientConfig['requestHandler']) ?? requestHandler,
    };
    const endpoint = s.endpoint();
    if (endpoint) {
      config.endpoint = endpoint;
      config.forcePathStyle = s.pathStyle();
    }
    const credentials = s.staticCredentials();
    if (credentials) config.credentials = credentials;
    if (clientOptions.anon) {
      // client_options.anon (public buckets): requests go unsigned, and no credential is looked up.
      config.signer = { sign: async (request) => request };
      config.credentials = { accessKeyId: '', secretAccessKey: '' };
    }
    // The shared-config profile the default chain reads credentials from (its region: options.ts).
    if (clientOptions.profile && !credentials) config.profile = clientOptions.profile;
    const client = new sdk.s3.S3Client(config);
    applyWriteRules(client);
    return client;
  }

  /**
   * Sends one S3 operation with the caller's signal, bounded by the deadline of the operation it
   * is part of (operation.ts) or, outside one, by a retry timeout of its own; failures mapped.
   * `detached`: neither the signal nor the deadline cancels it — cleanup, and requests whose
   * answer must be learnt (a CreateMultipartUpload's upload id); it keeps its own timeout.
   */
  async send<N extends CommandName>(
    name: N,
    input: Commands[N][0],
    key: string,
    signal?: AbortSignal,
    options: { detached?: boolean } = {},
  ): Promise<Commands[N][1]> {
    const own = options.detached ? undefined : signal;
    throwIfAborted(own, key);
    const client = await this.client();
    // requester_pays: every request says who pays (commands without the field ignore it).
    const full = this.#settings.clientOptions().requesterPays ? { ...input, RequestPayer: 'requester' } : input;
    const sending = command(loadSdkSync(), name, full as Commands[N][0]);
    const timeoutSeconds = this.#settings.retry.timeout;
    const operation = options.detached ? undefined : operationSignal();
    const signals: AbortSignal[] = [];
    if (own) signals.push(own);
    if (operation) signals.push(operation);
    // Outside an operation the timeout bounds the request and its retries up to the answer's
    // headers. It is cleared then: the SDK keeps its abort listener until the body ends, and a
    // body being streamed (a large download) must not be cut off by it.
    const timeout = operation === undefined && timeoutSeconds !== undefined ? new AbortController() : undefined;
    const timer = timeout && setTimeout(() => timeout.abort(), (timeoutSeconds as number) * 1000);
    if (timeout) signals.push(timeout.signal);
    const abortSignal = signals.length === 0 ? undefined : signals.length === 1 ? signals[0] : AbortSignal.any(signals);
    try {
      // Without options, the send takes the client's cached middleware stack (cacheMiddleware).
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const start = () => (abortSignal ? client.send(sending as any, { abortSignal }) : client.send(sending as any));
      const answer = this.#pacer.run(start, abortSignal) as Promise<Commands[N][1]>;
      // The SDK sleeps between attempts without listening to the signal: the race ends the wait.
      return await raceSignals(answer, [abortSignal], (fired) => fired.reason);
    } catch (err) {
      withoutExchange(err);
      const backend = this.backend;
      if (own?.aborted) throw new AbortError(`Operation aborted: '${key}'`, { path: key, backend, cause: err });
      if (operation?.aborted) throw deadlineError(key, backend, err) ?? err;
      if (timeout?.signal.aborted) {
        throw new BackendUnavailable(`S3 request timed out after ${timeoutSeconds}s: '${key}'`, { path: key, backend, cause: err });
      }
      throw this.mapError(err, key);
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  /** SDK error → our error classes (see errors.ts). */
  mapError(err: unknown, key: string, what?: string): RemoteStoreError {
    return mapS3Error(err, key, this.#errors, what);
  }

  /** Closes the client's sockets; a later call builds none (checkOpen refuses first). */
  destroy(): void {
    const client = this.#client;
    this.#client = undefined;
    client?.destroy();
  }
}
