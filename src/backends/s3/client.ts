/**
 * The AWS SDK client of the wing and the one way requests go through it: built on first use
 * (no network I/O at construction), sent with the operation's signal and the policy's
 * timeout, failures mapped by errors.ts. The control path and the SDK data path use it; the
 * native data path uses it for probes and as its credential source.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { readFileSync } from 'node:fs';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { AbortError, BackendUnavailable, type RemoteStoreError, throwIfAborted } from '../../errors';
import { mapS3Error, type ErrorContext } from './errors';
import type { S3Settings } from './options';
import { PolicyRetryStrategy } from './retry-strategy';
import { applyWriteRules } from './write-headers';

export class SdkClient {
  readonly #settings: S3Settings;
  readonly #errors: ErrorContext;
  readonly #checkOpen: () => void;
  #client: S3Client | undefined;

  /** `checkOpen` throws once the backend is closed: no client is rebuilt after close(). */
  constructor(settings: S3Settings, backend: string, checkOpen: () => void) {
    this.#settings = settings;
    this.#errors = { backend, bucket: settings.bucket, endpointUrl: settings.endpointUrl };
    this.#checkOpen = checkOpen;
  }

  /** The backend's name, as errors carry it. */
  get backend(): string {
    return this.#errors.backend;
  }

  /** The SDK client, built on first use. */
  client(): S3Client {
    this.#checkOpen();
    this.#client ??= this.#build();
    return this.#client;
  }

  /** Whether `type` is the SDK client class (`unwrap(S3Client)`). */
  isClientClass(type: unknown): boolean {
    return type === (S3Client as unknown);
  }

  #build(): S3Client {
    const s = this.#settings;
    const clientOptions = s.clientOptions();
    const ca = s.caBundle ? readFileSync(s.caBundle) : undefined;
    const agentOptions = { keepAlive: true, maxSockets: s.maxSockets, keepAliveMsecs: 1000 };
    const requestHandler = new NodeHttpHandler({
      httpAgent: new HttpAgent(agentOptions),
      httpsAgent: new HttpsAgent({ ...agentOptions, ...(ca ? { ca } : {}) }),
      connectionTimeout: 10_000,
      requestTimeout: 0,
    });
    const config: S3ClientConfig = {
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
    const client = new S3Client(config);
    applyWriteRules(client, { requesterPays: clientOptions.requesterPays });
    return client;
  }

  /** Sends a command with the operation's signal and the retry timeout; failures mapped. */
  async send<T>(command: { input: unknown }, key: string, signal?: AbortSignal): Promise<T> {
    throwIfAborted(signal, key);
    const timeoutSeconds = this.#settings.retry.timeout;
    const signals: AbortSignal[] = [];
    if (signal) signals.push(signal);
    // The timeout bounds the request and its retries up to the answer's headers. It is cleared
    // then: the SDK keeps its abort listener until the body ends, and a body being streamed
    // (a large download) must not be cut off by it.
    const timeout = timeoutSeconds === undefined ? undefined : new AbortController();
    const timer = timeout && setTimeout(() => timeout.abort(), (timeoutSeconds as number) * 1000);
    if (timeout) signals.push(timeout.signal);
    const abortSignal = signals.length === 0 ? undefined : signals.length === 1 ? signals[0] : AbortSignal.any(signals);
    try {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      return (await this.client().send(command as any, abortSignal ? { abortSignal } : {})) as T;
    } catch (err) {
      const backend = this.backend;
      if (signal?.aborted) throw new AbortError(`Operation aborted: '${key}'`, { path: key, backend, cause: err });
      if (abortSignal?.aborted && timeoutSeconds !== undefined) {
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
