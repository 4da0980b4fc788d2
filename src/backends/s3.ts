import { X509Certificate } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { readFileSync, statSync } from 'node:fs';
import { PassThrough, Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  type CompletedPart,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  type UploadPartCommandOutput,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { RetryErrorInfo, RetryStrategyV2, RetryToken } from '@smithy/types';
import type { Backend, BackendListOptions, BackendWriteOptions, PresignOptions, SignalOptions, Unwrappable, WriteContent } from '../backend';
import { Capability, CapabilitySet } from '../capabilities';
import { checkContent, contentChunks, isInMemory, memoryToBuffer } from '../content';
import {
  AbortError,
  AlreadyExists,
  BackendUnavailable,
  DirectoryNotEmpty,
  InvalidPath,
  isAbortError,
  NotFound,
  PermissionDenied,
  RemoteStoreError,
  throwIfAborted,
} from '../errors';
import type { ChildEntry, ContentDigest, FileInfo, FolderEntry, FolderInfo, WriteResult } from '../models';
import { ancestors, baseName } from '../path';
import { describe, RetryPolicy } from '../retry';
import { revealSecret, Secret } from '../secret';
import { BaseBackend } from './base';
import { NativeObjectStore, type NativeCredentials, type NativeS3Options } from '../native';
import { normalizeClientOptions, resolveRegion, type S3ClientOptions, type S3WriteDefaults } from './s3/client-options';
import { effectiveMultipart, MULTIPART_OPTION_NAMES, multipartOptions, NATIVE_MULTIPART_DEFAULTS, SDK_MULTIPART_DEFAULTS, type MultipartTuning } from './s3/multipart';
import { applyWriteRules, copyHeaders, objectHeaders, type SdkObjectHeaders } from './s3/write-headers';

/** Options of {@link S3Backend} (snake_case as in the config; camelCase accepted too). */
export interface S3BackendOptions {
  bucket: string;
  key?: string | Secret;
  secret?: string | Secret;
  token?: string | Secret;
  region_name?: string;
  regionName?: string;
  endpoint_url?: string;
  endpointUrl?: string;
  tls_ca_bundle?: string;
  tlsCaBundle?: string;
  /** Merged into the SDK's `S3ClientConfig` (explicit options above win). */
  client_options?: Partial<S3ClientConfig> & Record<string, unknown>;
  clientOptions?: Partial<S3ClientConfig> & Record<string, unknown>;
  retry?: RetryPolicy | Record<string, unknown>;
  reject_write_under_file_ancestor?: boolean;
  rejectWriteUnderFileAncestor?: boolean;
  /**
   * Connections per host (default 256; the SDK's own default of 50 queues silently): the SDK
   * agent's sockets, and on `s3-arrow` also the native path's requests in flight.
   */
  max_sockets?: number;
  maxSockets?: number;
  /** Bytes per multipart part, 5 MiB to 5 GiB (default 8 MiB). See ./s3/multipart.ts. */
  part_size?: number;
  partSize?: number;
  /** Parts in flight per upload, 1 to 1000 (default 4 on `s3`, 8 on `s3-arrow`). */
  upload_concurrency?: number;
  uploadConcurrency?: number;
  /** Writes up to this many bytes (and never less than one part) are one PUT (default 8 MiB). */
  multipart_threshold?: number;
  multipartThreshold?: number;
}
const DEFAULT_MAX_SOCKETS = 256;

/**
 * `host:port` → `https://host:port`; trimmed; empty → undefined. Anything but an http(s) URL
 * without credentials in it is refused, naming the option (`what`).
 */
export function normalizeEndpoint(endpoint: unknown, what = 'endpoint_url'): string | undefined {
  if (endpoint === undefined || endpoint === null) return undefined;
  if (typeof endpoint !== 'string') throw new TypeError(`s3 option '${what}' must be a string, got ${describe(endpoint)}`);
  const e = endpoint.trim();
  if (e === '') return undefined;
  const full = /^[a-z][a-z0-9+.-]*:\/\//i.test(e) ? e : `https://${e}`;
  // Shown in errors without any user:password@ part it may carry.
  const shown = JSON.stringify(full.replace(/\/\/[^/]*@/, '//***@'));
  let url: URL;
  try {
    url = new URL(full);
  } catch {
    throw new TypeError(`s3 option '${what}' is not a valid URL: ${shown}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`s3 option '${what}' must be an http or https URL: ${shown}`);
  if (url.username || url.password) {
    throw new TypeError(`s3 option '${what}' must not carry credentials (user:password@): give them as key and secret`);
  }
  return full;
}

/**
 * The CA bundle to trust: the explicit option, else `AWS_CA_BUNDLE`, else
 * `REQUESTS_CA_BUNDLE`, else `SSL_CERT_FILE` (empty counts as unset). A path that is not
 * an existing regular file of PEM certificates is an error at construction (for both paths:
 * the SDK would fail only at the first TLS handshake).
 */
export function resolveCaBundle(explicit: unknown, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (explicit !== undefined && explicit !== null && typeof explicit !== 'string') {
    throw new TypeError(`s3 option 'tls_ca_bundle' must be a path, got ${describe(explicit)}`);
  }
  const sources: Array<[string, string | undefined]> = [
    ['tls_ca_bundle', explicit as string | undefined],
    ['tls_ca_bundle (from AWS_CA_BUNDLE)', env.AWS_CA_BUNDLE],
    ['tls_ca_bundle (from REQUESTS_CA_BUNDLE)', env.REQUESTS_CA_BUNDLE],
    ['tls_ca_bundle (from SSL_CERT_FILE)', env.SSL_CERT_FILE],
  ];
  const found = sources.find(([, c]) => typeof c === 'string' && c.trim() !== '');
  if (found === undefined) return undefined;
  const [what, path] = found as [string, string];
  let pem: string | undefined;
  try {
    if (statSync(path).isFile()) pem = readFileSync(path, 'utf8');
  } catch {
    pem = undefined;
  }
  if (pem === undefined) throw new TypeError(`${what} path does not exist or is not a file: ${path}`);
  const certs = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (certs.length === 0) throw new TypeError(`${what} '${path}' holds no PEM certificate`);
  for (const cert of certs) {
    try {
      new X509Certificate(cert);
    } catch (err) {
      throw new TypeError(`${what} '${path}' holds a certificate that cannot be read: ${(err as Error).message}`);
    }
  }
  return path;
}

/** An optional string option; anything else is refused naming it. */
function stringOption(o: Record<string, unknown>, snake: string, camel: string): string | undefined {
  const v = pick<unknown>(o, snake, camel);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new TypeError(`s3 option '${snake}' must be a string, got ${describe(v)}`);
  return v;
}

/** A credential option: a string, a number (a YAML `key: 12345`) or a Secret. */
function credentialOption(o: Record<string, unknown>, name: string): string | undefined {
  const v = o[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' || v instanceof Secret) return revealSecret(v);
  // Not the value itself: it is a credential.
  throw new TypeError(`s3 option '${name}' must be a string, got ${Array.isArray(v) ? 'an array' : typeof v}`);
}

/**
 * The RetryPolicy as an SDK retry strategy: every request gets the policy's attempts and
 * backoff curve. The SDK's own strategies also keep a client-wide retry quota (500 tokens,
 * 5 or 10 per retry) that stops all retrying after a burst of failures: of 200 concurrent
 * requests meeting one 500 each, 155 failed on their first attempt, and 2,000 concurrent
 * writes on a loaded machine failed on connection timeouts. object_store, the native path,
 * has no such quota. Which errors are retried stays the SDK's call (transient, throttling).
 */
class PolicyRetryStrategy implements RetryStrategyV2 {
  readonly mode = 'standard';

  constructor(private readonly policy: RetryPolicy) {}

  async acquireInitialRetryToken(): Promise<RetryToken> {
    return retryToken(0, 0);
  }

  async refreshRetryTokenForRetry(token: RetryToken, info: RetryErrorInfo): Promise<RetryToken> {
    const attempt = token.getRetryCount() + 1;
    if ((info.errorType !== 'TRANSIENT' && info.errorType !== 'THROTTLING') || attempt >= this.policy.maxAttempts) {
      throw new Error('No retry token available');
    }
    let ms = (this.policy.backoff(attempt) + Math.random() * this.policy.jitter) * 1000;
    // A server's Retry-After is honoured up to 5 s beyond the policy's wait, as the SDK does.
    if (info.retryAfterHint instanceof Date) ms = Math.max(ms, Math.min(info.retryAfterHint.getTime() - Date.now(), ms + 5000));
    // Each part fits a timer; their sum may not, and a timer past 2^31 - 1 ms fires at once.
    return retryToken(attempt, Math.min(2 ** 31 - 1, Math.round(ms)));
  }

  recordSuccess(): void {}
}

/** A token the SDK's retry middleware sleeps `delay` ms on before the retry. */
function retryToken(count: number, delay: number): RetryToken {
  return { getRetryCount: () => count, getRetryDelay: () => delay };
}

/** A 5xx answer (after retries). */
export function isServerError(err: unknown): boolean {
  const status = ((err as RemoteStoreError)?.cause as ErrorShape | undefined)?.$metadata?.httpStatusCode;
  return err instanceof BackendUnavailable && status !== undefined && status >= 500;
}

function pick<T>(o: Record<string, unknown>, snake: string, camel: string): T | undefined {
  return (o[snake] ?? o[camel]) as T | undefined;
}

interface ErrorShape {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
  $response?: { statusCode?: number };
}

/**
 * A store in an S3 bucket, everything through `@aws-sdk/client-s3` (streamed writes use
 * our own multipart upload rather than lib-storage's Upload, which can abort the upload while
 * parts are still in flight and so can leave orphaned parts). Flat namespace: folders are
 * key prefixes, no marker objects are written and a folder vanishes with its last key.
 *
 * `overwrite: false` is enforced by the server with `If-None-Match: *` on the single PUT,
 * on CompleteMultipartUpload and on CopyObject, so of concurrent writers to a new key at
 * most one wins on servers that honour it (AWS S3 does). Still racy: move/copy destination
 * checks on servers that ignore If-None-Match on CopyObject, the ancestor check of
 * `reject_write_under_file_ancestor`, and the delete half of move.
 *
 * A streamed write whose source fails aborts its multipart upload: no truncated object,
 * no orphaned parts.
 */
export class S3Backend extends BaseBackend implements Backend {
  readonly name: string = 's3';
  readonly hierarchical = false;
  readonly capabilities = CapabilitySet.allExcept(Capability.ATOMIC_MOVE);
  protected override readonly closeIsTerminal = true;

  readonly bucket: string;
  readonly endpointUrl: string | undefined;
  readonly regionName: string | undefined;
  readonly caBundle: string | undefined;
  readonly retry: RetryPolicy;
  readonly rejectWriteUnderFileAncestor: boolean;
  readonly #key: string | undefined;
  readonly #secret: string | undefined;
  readonly #token: string | undefined;
  readonly #clientOptions: S3ClientOptions;
  #region: string | undefined;
  /** `max_sockets`: connections per host. */
  protected readonly maxSockets: number;
  /** `part_size`, `upload_concurrency`, `multipart_threshold` as given (each path has its defaults). */
  protected readonly multipart: Partial<MultipartTuning>;
  #client: S3Client | undefined;
  /** The native store that signs presigned URLs (s3-arrow: its data path). */
  #presigner: NativeObjectStore | undefined;
  /**
   * Multipart uploads whose abort could not reach the server (it was down when the write
   * failed). Each later write tries them again, and close() does once more, so an outage does
   * not leave parts on the server for good.
   */
  readonly #unaborted = new Map<unknown, { key: string; abort: () => Promise<void> }>();
  #aborting: Promise<void> | undefined;

  constructor(options: S3BackendOptions) {
    super();
    if (options === null || typeof options !== 'object') throw new TypeError('s3 backend options must be an object');
    const o = options as unknown as Record<string, unknown>;
    const bucket = o.bucket;
    if (typeof bucket !== 'string' || bucket.trim() === '') throw new TypeError('bucket must be a non-empty string');
    this.bucket = bucket.trim();
    this.#key = credentialOption(o, 'key');
    this.#secret = credentialOption(o, 'secret');
    this.#token = credentialOption(o, 'token');
    if ((this.#key === undefined) !== (this.#secret === undefined)) {
      throw new TypeError("s3 options 'key' and 'secret' must be given together (or neither, for the AWS default credential chain)");
    }
    this.endpointUrl = normalizeEndpoint(pick<unknown>(o, 'endpoint_url', 'endpointUrl'));
    const region = stringOption(o, 'region_name', 'regionName');
    this.regionName = region !== undefined && region.trim() !== '' ? region.trim() : undefined;
    this.caBundle = resolveCaBundle(pick<unknown>(o, 'tls_ca_bundle', 'tlsCaBundle'));
    const retry = o.retry;
    this.retry = retry === undefined || retry === null ? new RetryPolicy() : RetryPolicy.from(retry);
    const reject = pick<unknown>(o, 'reject_write_under_file_ancestor', 'rejectWriteUnderFileAncestor') ?? false;
    if (typeof reject !== 'boolean') {
      // Boolean('false') is true: a quoted YAML value must not switch the check on.
      throw new TypeError(`s3 option 'reject_write_under_file_ancestor' must be true or false, got ${describe(reject)}`);
    }
    this.rejectWriteUnderFileAncestor = reject;
    this.#clientOptions = normalizeClientOptions(pick<Record<string, unknown>>(o, 'client_options', 'clientOptions'), { endpointUrl: this.endpointUrl });
    const maxSockets = pick<unknown>(o, 'max_sockets', 'maxSockets') ?? DEFAULT_MAX_SOCKETS;
    if (typeof maxSockets !== 'number' || !Number.isInteger(maxSockets) || maxSockets < 1) {
      throw new RangeError(`s3 option 'max_sockets' must be a positive integer, got ${describe(maxSockets)}`);
    }
    this.maxSockets = maxSockets;
    this.multipart = multipartOptions(o);
  }

  toString(): string {
    return `S3Backend(bucket='${this.bucket}'${this.endpointUrl ? `, endpoint_url='${this.endpointUrl}'` : ''})`;
  }

  /** The SDK client, built on first use (no network I/O in the constructor). */
  protected get client(): S3Client {
    this.checkOpen();
    this.#client ??= this.buildClient();
    return this.#client;
  }

  /** The region both paths use (see resolveRegion: the options, env, then the shared-config profile), decided on first use. */
  protected get resolvedRegion(): string {
    this.#region ??= resolveRegion(this.regionName, this.#clientOptions);
    return this.#region;
  }

  /** Path-style addressing (on by default with a custom endpoint; `client_options` may choose). */
  protected get pathStyle(): boolean {
    const style = this.#clientOptions.addressingStyle;
    return style === 'path' || ((style ?? 'auto') === 'auto' && this.effectiveEndpoint !== undefined);
  }

  /**
   * The endpoint the SDK client talks to: `endpoint_url`, else a string
   * `client_options.endpoint` (the SDK would use it), else undefined (AWS).
   */
  protected get effectiveEndpoint(): string | undefined {
    return this.endpointUrl ?? this.#clientOptions.endpoint;
  }

  /** `client_options.s3_additional_kwargs` as write headers: applied to every write on both paths. */
  protected get writeDefaults(): S3WriteDefaults {
    return this.#clientOptions.writeDefaults;
  }

  /** The static credentials from the options, if both key and secret were given. */
  protected get staticCredentials(): { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined {
    if (this.#key === undefined || this.#secret === undefined) return undefined;
    return { accessKeyId: this.#key, secretAccessKey: this.#secret, ...(this.#token ? { sessionToken: this.#token } : {}) };
  }

  private buildClient(): S3Client {
    const ca = this.caBundle ? readFileSync(this.caBundle) : undefined;
    const agentOptions = { keepAlive: true, maxSockets: this.maxSockets, keepAliveMsecs: 1000 };
    const requestHandler = new NodeHttpHandler({
      httpAgent: new HttpAgent(agentOptions),
      httpsAgent: new HttpsAgent({ ...agentOptions, ...(ca ? { ca } : {}) }),
      connectionTimeout: 10_000,
      requestTimeout: 0,
    });
    const config: S3ClientConfig = {
      ...(this.#clientOptions.sdkConfig as S3ClientConfig),
      region: this.resolvedRegion,
      retryStrategy: new PolicyRetryStrategy(this.retry),
      maxAttempts: this.retry.maxAttempts, // shown in the amz-sdk-request header of each attempt
      requestHandler: (this.#clientOptions.sdkConfig.requestHandler as S3ClientConfig['requestHandler']) ?? requestHandler,
    };
    const endpoint = this.effectiveEndpoint;
    if (endpoint) {
      config.endpoint = endpoint;
      config.forcePathStyle = this.pathStyle;
    }
    const credentials = this.staticCredentials;
    if (credentials) config.credentials = credentials;
    const client = new S3Client(config);
    applyWriteRules(client, { requesterPays: this.#clientOptions.requesterPays });
    return client;
  }

  /**
   * The native options derived from the same settings as the SDK client. Protected: they hold
   * the plain credentials.
   */
  protected nativeOptions(): NativeS3Options {
    const retry: RetryPolicy = this.retry;
    const options: NativeS3Options = {
      bucket: this.bucket,
      region: this.resolvedRegion,
      retry: { maxAttempts: retry.maxAttempts, backoffBase: retry.backoffBase, backoffMax: retry.backoffMax, jitter: retry.jitter },
      // `timeout` bounds one whole operation, every retry included.
      ...(retry.timeout !== undefined ? { deadline: retry.timeout } : {}),
      virtualHostedStyle: !this.pathStyle,
      backendName: this.name,
      // The native path keeps to the same bound (napi takes a u32; no server wants more).
      maxConnections: Math.min(this.maxSockets, 65536),
      ...effectiveMultipart(this.multipart, NATIVE_MULTIPART_DEFAULTS),
      writeDefaults: this.#clientOptions.writeDefaults,
      requesterPays: this.#clientOptions.requesterPays,
    };
    const endpoint = this.effectiveEndpoint;
    if (endpoint) {
      options.endpoint = endpoint;
      options.allowHttp = endpoint.toLowerCase().startsWith('http://');
    }
    if (this.caBundle) options.caCertPath = this.caBundle;
    const creds = this.staticCredentials;
    if (creds) {
      options.accessKeyId = creds.accessKeyId;
      options.secretAccessKey = creds.secretAccessKey;
      if (creds.sessionToken) options.sessionToken = creds.sessionToken;
    } else {
      // One source of truth: the SDK client's provider (default chain, or client_options.credentials).
      const client = this.client;
      options.credentials = async (): Promise<NativeCredentials> => {
        const c = await client.config.credentials();
        return {
          accessKeyId: c.accessKeyId,
          secretAccessKey: c.secretAccessKey,
          ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}),
          ...(c.expiration ? { expiration: c.expiration } : {}),
        };
      };
    }
    return options;
  }

  /**
   * The store that signs presigned URLs: the addon's S3 client, which signs locally with the
   * same credentials (one signer for both backends, no extra SDK package). No network I/O.
   */
  protected get presigner(): NativeObjectStore {
    this.checkOpen();
    this.#presigner ??= NativeObjectStore.s3(this.nativeOptions());
    return this.#presigner;
  }

  /** A URL allowing `method` on `key` for `expiresIn` seconds (Store.presign validated both). */
  async presign(key: string, options: PresignOptions): Promise<string> {
    return this.presigner.presign(key, options.method, options.expiresIn);
  }

  override nativePath(key: string): string {
    return key === '' ? this.bucket : `${this.bucket}/${key}`;
  }

  override toKey(native: string): string {
    if (native === this.bucket || native === `${this.bucket}/`) return '';
    if (native.startsWith(`${this.bucket}/`)) return native.slice(this.bucket.length + 1);
    return super.toKey(native);
  }

  override unwrap<T>(type: Unwrappable<T>): T {
    if (type === (S3Client as unknown)) return this.client as unknown as T;
    return super.unwrap(type);
  }

  override async close(): Promise<void> {
    if (!this.closed && this.#unaborted.size > 0) {
      await this.retryAborts();
      for (const { key } of this.#unaborted.values()) {
        process.emitWarning(
          `The multipart upload of '${key}' could not be aborted: the S3 endpoint was unreachable. ` +
            'Its parts stay on the server until a lifecycle rule (AbortIncompleteMultipartUpload) removes them.',
          { code: 'REMOTE_STORE_UPLOAD_LEFT_OPEN' },
        );
      }
      this.#unaborted.clear();
    }
    this.closed = true;
    const client = this.#client;
    this.#client = undefined;
    client?.destroy();
    this.#presigner?.close();
    this.#presigner = undefined;
  }

  // ---- plumbing --------------------------------------------------------------------

  /** Keeps an upload whose abort failed, to abort it later (`id` tells uploads apart). */
  protected deferAbort(id: unknown, key: string, abort: () => Promise<void>): void {
    this.#unaborted.set(id, { key, abort });
  }

  /** One more attempt at each deferred abort; one round at a time. */
  protected retryAborts(): Promise<void> {
    if (this.#unaborted.size === 0) return Promise.resolve();
    this.#aborting ??= Promise.allSettled(
      [...this.#unaborted].map(async ([id, upload]) => {
        await upload.abort();
        this.#unaborted.delete(id);
      }),
    ).then(() => {
      this.#aborting = undefined;
    });
    return this.#aborting;
  }

  /** Sends a command with the operation's signal and the retry timeout. */
  protected async send<T>(command: { input: unknown }, key: string, signal?: AbortSignal): Promise<T> {
    throwIfAborted(signal, key);
    const signals: AbortSignal[] = [];
    if (signal) signals.push(signal);
    // The timeout bounds the request and its retries up to the answer's headers. It is cleared
    // then: the SDK keeps its abort listener until the body ends, and a body being streamed
    // (a large download) must not be cut off by it.
    const timeout = this.retry.timeout === undefined ? undefined : new AbortController();
    const timer = timeout && setTimeout(() => timeout.abort(), (this.retry.timeout as number) * 1000);
    if (timeout) signals.push(timeout.signal);
    const abortSignal = signals.length === 0 ? undefined : signals.length === 1 ? signals[0] : AbortSignal.any(signals);
    try {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      return (await this.client.send(command as any, abortSignal ? { abortSignal } : {})) as T;
    } catch (err) {
      if (signal?.aborted) throw new AbortError(`Operation aborted: '${key}'`, { path: key, backend: this.name, cause: err });
      if (abortSignal?.aborted && this.retry.timeout !== undefined) {
        throw new BackendUnavailable(`S3 request timed out after ${this.retry.timeout}s: '${key}'`, { path: key, backend: this.name, cause: err });
      }
      throw this.mapError(err, key);
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  /** SDK error → our error classes. The SDK error is kept as `cause`. */
  mapError(err: unknown, key: string, what = 'S3 operation'): RemoteStoreError {
    if (err instanceof RemoteStoreError) return err;
    const details = { path: key, backend: this.name, cause: err };
    if (isAbortError(err)) return new AbortError(`Operation aborted: '${key}'`, details);
    const e = (err ?? {}) as ErrorShape;
    const code = e.name ?? e.Code ?? '';
    const status = e.$metadata?.httpStatusCode ?? e.$response?.statusCode;
    const sysCode = e.code ?? '';
    const msg = e.message ? `: ${e.message}` : '';
    if (code === 'NoSuchBucket') return new NotFound(`Bucket not found: '${this.bucket}' (path '${key}')`, details);
    if (code === 'NoSuchKey' || code === 'NoSuchUpload' || code === 'NotFound' || status === 404) return new NotFound(`Not found: '${key}'`, details);
    if (code === 'PreconditionFailed' || code === 'ConditionalRequestConflict' || status === 412) {
      return new AlreadyExists(`File already exists: '${key}'`, details);
    }
    if (
      ['AccessDenied', 'Forbidden', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken', 'AllAccessDisabled'].includes(code) ||
      status === 403 ||
      status === 401
    ) {
      return new PermissionDenied(`Permission denied for '${key}' (${code || status})`, details);
    }
    if (
      ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'EPIPE', 'ENETUNREACH'].includes(sysCode) ||
      ['TimeoutError', 'RequestTimeout', 'ServiceUnavailable', 'SlowDown', 'InternalError', 'ThrottlingException'].includes(code) ||
      (status !== undefined && (status >= 500 || status === 429))
    ) {
      return new BackendUnavailable(`S3 endpoint unavailable for '${key}' (${code || sysCode || status})${msg}`, details);
    }
    if (/certificate|self[- ]signed|SSL|TLS|UNABLE_TO_VERIFY|DEPTH_ZERO/i.test(`${sysCode} ${e.message ?? ''}`)) {
      return new BackendUnavailable(
        `TLS verification failed talking to ${this.endpointUrl ?? 'S3'} for '${key}'${msg}. ` +
          'Set tls_ca_bundle (or AWS_CA_BUNDLE) to the CA certificate that signed the server certificate.',
        details,
      );
    }
    return new RemoteStoreError(`${what} failed on '${key}' (${code || sysCode || status || 'error'})${msg}`, details);
  }

  /** HEAD of a key; undefined when there is no such object. */
  protected async head(key: string, signal?: AbortSignal): Promise<HeadObjectCommandOutput | undefined> {
    try {
      return await this.send<HeadObjectCommandOutput>(
        new HeadObjectCommand({ Bucket: this.bucket, Key: key, ChecksumMode: 'ENABLED' }),
        key,
        signal,
      );
    } catch (err) {
      if (err instanceof NotFound) return undefined;
      // s3s-fs (keys stored as files) answers 500 for a HEAD of a key that is a directory
      // on its disk; a listing tells whether such a key really exists as an object.
      if (isServerError(err) && !(await this.keyListed(key, signal))) return undefined;
      throw err;
    }
  }

  /** True when some key lies below `key/` (one listing with MaxKeys=1). */
  protected async hasChildren(key: string, signal?: AbortSignal): Promise<boolean> {
    const prefix = key === '' ? '' : `${key}/`;
    try {
      const out = await this.send<ListObjectsV2CommandOutput>(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, MaxKeys: 1 }),
        key,
        signal,
      );
      return (out.KeyCount ?? (out.Contents?.length ?? 0) + (out.CommonPrefixes?.length ?? 0)) > 0;
    } catch (err) {
      if (err instanceof NotFound) return false; // missing bucket reads as an absent path
      throw err;
    }
  }

  /** True when `key` itself is listed as an object (fallback when HEAD/GET fail with 5xx); fails closed. */
  protected async keyListed(key: string, signal?: AbortSignal): Promise<boolean> {
    try {
      const out = await this.send<ListObjectsV2CommandOutput>(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: key, MaxKeys: 1 }),
        key,
        signal,
      );
      return out.Contents?.[0]?.Key === key;
    } catch (err) {
      if (err instanceof AbortError) throw err;
      return true;
    }
  }

  /** Fail-open variant of hasChildren for error-path probes. */
  protected async probeFolder(key: string, signal?: AbortSignal): Promise<boolean> {
    try {
      return await this.hasChildren(key, signal);
    } catch (err) {
      if (err instanceof AbortError) throw err;
      return false;
    }
  }

  protected async probeFile(key: string, signal?: AbortSignal): Promise<boolean> {
    try {
      return (await this.head(key, signal)) !== undefined;
    } catch (err) {
      if (err instanceof AbortError) throw err;
      return false;
    }
  }

  protected notFoundOrFolder(key: string, isFolder: boolean, what = 'File'): RemoteStoreError {
    return isFolder
      ? this.notAFile(key)
      : new NotFound(`${what} not found: '${key}'`, { path: key, backend: this.name });
  }

  /** HEAD of a key that must be a file: NotFound when missing, InvalidPath for a folder. */
  protected async headFile(key: string, signal?: AbortSignal, what = 'File'): Promise<HeadObjectCommandOutput> {
    if (key === '') throw new InvalidPath("Path is the root folder, not a file: ''", { path: key, backend: this.name });
    const h = await this.head(key, signal);
    if (h) return h;
    throw this.notFoundOrFolder(key, await this.probeFolder(key, signal), what);
  }

  protected digestOf(h: { ChecksumSHA256?: string; ChecksumSHA1?: string; ChecksumCRC32?: string; ChecksumCRC32C?: string; ChecksumCRC64NVME?: string }): ContentDigest | undefined {
    const choices: Array<[string, string | undefined]> = [
      ['sha256', h.ChecksumSHA256],
      ['sha1', h.ChecksumSHA1],
      ['crc32', h.ChecksumCRC32],
      ['crc32c', h.ChecksumCRC32C],
      ['crc64nvme', h.ChecksumCRC64NVME],
    ];
    for (const [algorithm, b64] of choices) {
      // Multipart objects carry a checksum-of-checksums `xxx-N`; not a content digest.
      if (b64 && !b64.includes('-')) return { algorithm, value: Buffer.from(b64, 'base64').toString('hex') };
    }
    return undefined;
  }

  protected static etag(raw: string | undefined): string | undefined {
    return raw ? raw.replace(/^W\//, '').replace(/"/g, '').toLowerCase() : undefined;
  }

  private fileInfoFromHead(key: string, h: HeadObjectCommandOutput): FileInfo {
    const info: FileInfo = {
      path: key,
      name: baseName(key),
      size: h.ContentLength ?? 0,
      modifiedAt: h.LastModified ?? new Date(0),
    };
    const etag = S3Backend.etag(h.ETag);
    if (etag) info.etag = etag;
    const digest = this.digestOf(h);
    if (digest) info.digest = digest;
    if (h.ContentType) info.contentType = h.ContentType;
    const metadata = h.Metadata ?? {};
    if (Object.keys(metadata).length > 0) info.metadata = metadata;
    return info;
  }

  // ---- probes ----------------------------------------------------------------------

  async exists(key: string, options: SignalOptions = {}): Promise<boolean> {
    this.checkOpen();
    if (key === '') return true;
    if ((await this.head(key, options.signal)) !== undefined) return true;
    return this.hasChildren(key, options.signal);
  }

  async isFile(key: string, options: SignalOptions = {}): Promise<boolean> {
    this.checkOpen();
    if (key === '') return false;
    return (await this.head(key, options.signal)) !== undefined;
  }

  async isFolder(key: string, options: SignalOptions = {}): Promise<boolean> {
    this.checkOpen();
    if (key === '') return true;
    return this.hasChildren(key, options.signal);
  }

  async getFileInfo(key: string, options: SignalOptions = {}): Promise<FileInfo> {
    this.checkOpen();
    return this.fileInfoFromHead(key, await this.headFile(key, options.signal));
  }

  override async getFolderInfo(key: string, options: SignalOptions = {}): Promise<FolderInfo> {
    this.checkOpen();
    let fileCount = 0;
    let totalSize = 0;
    let modifiedAt: Date | undefined;
    for await (const file of this.listFiles(key, { recursive: true, signal: options.signal })) {
      fileCount++;
      totalSize += file.size;
      if (!modifiedAt || file.modifiedAt > modifiedAt) modifiedAt = file.modifiedAt;
    }
    if (fileCount === 0 && key !== '') {
      if (await this.probeFile(key, options.signal)) {
        throw this.notAFolder(key);
      }
      throw new NotFound(`Folder not found: '${key}'`, { path: key, backend: this.name });
    }
    return { path: key, fileCount, totalSize, modifiedAt };
  }

  async ping(options: SignalOptions = {}): Promise<void> {
    this.checkOpen();
    try {
      await this.send(new HeadBucketCommand({ Bucket: this.bucket }), '', options.signal);
    } catch (err) {
      if (err instanceof NotFound) {
        throw new NotFound(`Bucket not found: '${this.bucket}'`, { path: '', backend: this.name, cause: err.cause });
      }
      throw err;
    }
  }

  // ---- reads -----------------------------------------------------------------------

  private async getObject(
    key: string,
    range: string | undefined,
    signal?: AbortSignal,
    ifMatch?: string,
  ): Promise<{ body: Readable; length: number; etag?: string }> {
    if (key === '') throw new InvalidPath("Path is the root folder, not a file: ''", { path: key, backend: this.name });
    try {
      const out = await this.send<{ Body?: unknown; ContentLength?: number; ETag?: string }>(
        new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: range, IfMatch: ifMatch }),
        key,
        signal,
      );
      const body = out.Body as Readable | undefined;
      return { body: body ?? Readable.from([]), length: out.ContentLength ?? 0, etag: out.ETag };
    } catch (err) {
      if (err instanceof NotFound) throw this.notFoundOrFolder(key, await this.probeFolder(key, signal));
      if (isServerError(err) && !(await this.keyListed(key, signal))) throw this.notFoundOrFolder(key, await this.probeFolder(key, signal));
      throw err;
    }
  }

  /** Wraps an SDK body: errors mapped, aborted by the signal, the socket released on destroy. */
  private wrapBody(key: string, body: Readable, signal?: AbortSignal): Readable {
    const out = new PassThrough({ highWaterMark: 1 << 20 });
    body.on('error', (err) => out.destroy(this.mapError(err, key)));
    out.on('close', () => {
      if (!body.destroyed) body.destroy();
    });
    body.pipe(out);
    if (signal) abortStreamOn(signal, out, key, this.name);
    return out;
  }

  /**
   * Bytes `[offset, offset + length)` (to the end when length is undefined), chunk by chunk.
   * A body that breaks off mid-way (a reset, a server that died) is resumed from the last byte
   * received, pinned to the first answer's ETag so that a replaced object fails instead of
   * mixing versions, up to the retry policy's attempts: the SDK retries failed requests, not
   * bodies that fail after the headers. `first` is an answer already received for the start.
   */
  private async *chunks(
    key: string,
    offset: number,
    length: number | undefined,
    signal: AbortSignal | undefined,
    first?: { body: Readable; etag?: string },
  ): AsyncGenerator<Buffer> {
    let got = 0;
    let etag = first?.etag;
    let answer = first;
    for (let attempt = 1; ; attempt++) {
      if (!answer) {
        const start = offset + got;
        const range = length === undefined ? (start === 0 ? undefined : `bytes=${start}-`) : `bytes=${start}-${offset + length - 1}`;
        try {
          answer = await this.getObject(key, range, signal, etag);
        } catch (err) {
          // If-Match failed: another write replaced the object between two parts of this read.
          if (err instanceof AlreadyExists && etag !== undefined) {
            throw new RemoteStoreError(`Object '${key}' was replaced while it was being read`, { path: key, backend: this.name, cause: err });
          }
          throw err;
        }
        etag ??= answer.etag;
      }
      const body = this.wrapBody(key, answer.body, signal);
      answer = undefined;
      try {
        for await (const chunk of body) {
          got += (chunk as Buffer).length;
          yield chunk as Buffer;
        }
        return;
      } catch (err) {
        if (!(err instanceof BackendUnavailable) || attempt >= this.retry.maxAttempts || signal?.aborted || etag === undefined) throw err;
      } finally {
        body.destroy();
      }
      await sleep(this.retry.backoff(attempt) * 1000, signal, key, this.name);
    }
  }

  private async fetchBytes(key: string, offset: number, length: number | undefined, signal?: AbortSignal): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const chunk of this.chunks(key, offset, length, signal)) parts.push(chunk);
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }

  /**
   * A stream of the object from byte 0; a body that breaks off is resumed like readBytes does.
   * A missing object fails here, not in the stream. Destroying the stream cancels the request
   * in flight.
   */
  async read(key: string, options: SignalOptions = {}): Promise<Readable> {
    this.checkOpen();
    const stop = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
    const first = await this.getObject(key, undefined, options.signal);
    const stream = Readable.from(this.chunks(key, 0, undefined, signal, first), { objectMode: false, highWaterMark: 1 << 20 });
    stream.once('close', () => stop.abort());
    // A consumer that is not reading still hears of the abort at once.
    if (options.signal) abortStreamOn(options.signal, stream, key, this.name);
    return stream;
  }

  async readBytes(key: string, options: SignalOptions = {}): Promise<Buffer> {
    this.checkOpen();
    return this.fetchBytes(key, 0, undefined, options.signal);
  }

  async readRange(key: string, offset: number, length: number | undefined, options: SignalOptions = {}): Promise<Buffer> {
    this.checkOpen();
    if (length === 0) {
      await this.headFile(key, options.signal);
      return Buffer.alloc(0);
    }
    try {
      return await this.fetchBytes(key, offset, length, options.signal);
    } catch (err) {
      // Past the end: S3 answers 416 InvalidRange; the contract gives an empty buffer.
      const cause = (err as RemoteStoreError).cause as ErrorShape | undefined;
      if (cause && (cause.name === 'InvalidRange' || cause.$metadata?.httpStatusCode === 416)) return Buffer.alloc(0);
      throw err;
    }
  }

  // ---- writes ----------------------------------------------------------------------

  /** The opt-in ancestor check: each slash-aligned ancestor HEADed; fail-open on probe errors. */
  private async checkAncestors(key: string, signal?: AbortSignal): Promise<void> {
    if (!this.rejectWriteUnderFileAncestor) return;
    for (const ancestor of ancestors(key)) {
      if (await this.probeFile(ancestor, signal)) {
        throw this.underFile(ancestor, key);
      }
    }
  }

  async checkWriteTarget(key: string, options: { overwrite: boolean } & SignalOptions): Promise<void> {
    this.checkOpen();
    // Path validity before the overwrite rule (DESIGN §4).
    await this.checkAncestors(key, options.signal);
    if (!options.overwrite && (await this.head(key, options.signal)) !== undefined) {
      throw new AlreadyExists(`File already exists: '${key}'`, { path: key, backend: this.name });
    }
  }

  /**
   * The checks before a write's first byte, shared by both S3 backends; answers whether the
   * content is already in memory. For buffers the conditional PUT alone decides; a stream gets
   * an early HEAD so an existing target fails before its body is consumed (the condition still
   * closes the race), unless the Store has just made that check (openAtomic).
   */
  protected async beginWrite(key: string, content: WriteContent, options: BackendWriteOptions): Promise<boolean> {
    this.checkOpen();
    checkContent(content);
    throwIfAborted(options.signal, key);
    // In the background: a write must not wait for a server that may still be down.
    void this.retryAborts();
    const inMemory = isInMemory(content);
    if (!options.targetChecked && (!inMemory || this.rejectWriteUnderFileAncestor)) {
      await this.checkWriteTarget(key, { overwrite: options.overwrite || inMemory, signal: options.signal });
    }
    return inMemory;
  }

  async write(key: string, content: WriteContent, options: BackendWriteOptions): Promise<WriteResult> {
    const inMemory = await this.beginWrite(key, content, options);
    const common = {
      Bucket: this.bucket,
      Key: key,
      ...objectHeaders(this.writeDefaults, options.attributes),
      ...(options.metadata && Object.keys(options.metadata).length > 0 ? { Metadata: options.metadata } : {}),
      ...(options.overwrite ? {} : { IfNoneMatch: '*' }),
    };
    let size: number;
    let put: { ETag?: string; VersionId?: string; ChecksumCRC32?: string; ChecksumCRC32C?: string; ChecksumSHA1?: string; ChecksumSHA256?: string; ChecksumCRC64NVME?: string };
    if (inMemory) {
      const body = memoryToBuffer(content as Buffer);
      size = body.length;
      put = await this.conditional(
        this.send(new PutObjectCommand({ ...common, Body: body, ContentLength: body.length }), key, options.signal),
        key,
        !options.overwrite,
      );
      options.onProgress?.({ bytes: size, total: size });
    } else {
      ({ size, put } = await this.uploadStream(key, content, common, options));
    }
    return this.writeResult(key, size, put, options);
  }

  /** The WriteResult of a committed write: the PUT's answer completed by one HEAD. */
  protected async writeResult(
    key: string,
    size: number,
    put: { ETag?: string; VersionId?: string; ChecksumCRC32?: string; ChecksumCRC32C?: string; ChecksumSHA1?: string; ChecksumSHA256?: string; ChecksumCRC64NVME?: string },
    options: BackendWriteOptions,
  ): Promise<WriteResult> {
    const h = await this.head(key, options.signal).catch(() => undefined);
    const result: WriteResult = { path: key, size, source: 'native' };
    const etag = S3Backend.etag(put.ETag ?? h?.ETag);
    if (etag) result.etag = etag;
    const digest = this.digestOf(put) ?? (h ? this.digestOf(h) : undefined);
    if (digest) result.digest = digest;
    const versionId = put.VersionId ?? h?.VersionId;
    if (versionId) result.versionId = versionId;
    if (h?.LastModified) result.lastModified = h.LastModified;
    if (options.metadata && Object.keys(options.metadata).length > 0) result.metadata = { ...options.metadata };
    return result;
  }

  /**
   * Streams content: one conditional PUT up to the multipart threshold, a multipart upload
   * otherwise (parts of `part_size`, `upload_concurrency` in flight, CRC32 per part like
   * lib-storage; ./s3/multipart.ts). On any failure (source error, abort, refused
   * completion) it waits for the parts in flight to settle and only then aborts the upload:
   * a part that lands after AbortMultipartUpload would otherwise stay behind as an orphan (S3
   * documents this).
   */
  private async uploadStream(
    key: string,
    content: WriteContent,
    params: { Bucket: string; Key: string; Metadata?: Record<string, string>; IfNoneMatch?: string } & SdkObjectHeaders,
    options: BackendWriteOptions,
  ): Promise<{ size: number; put: Record<string, string | undefined> }> {
    const signal = options.signal;
    const { partSize, uploadConcurrency, multipartThreshold } = effectiveMultipart(this.multipart, SDK_MULTIPART_DEFAULTS);
    let size = 0;
    let pending: Buffer[] = [];
    let pendingLength = 0;
    let uploadId: string | undefined;
    let partNumber = 0;
    const parts: CompletedPart[] = [];
    const inflight = new Set<Promise<void>>();
    let partError: unknown;
    const { IfNoneMatch, ...createParams } = params;

    const startPart = async (body: Buffer): Promise<void> => {
      if (uploadId === undefined) {
        // Not cancelled by the signal: an upload created after we stopped listening could
        // not be aborted (we would never learn its id). The signal is checked right after.
        const created = await this.send<{ UploadId?: string }>(
          new CreateMultipartUploadCommand({ ...createParams, ChecksumAlgorithm: 'CRC32' }),
          key,
        );
        uploadId = created.UploadId;
        if (!uploadId) throw new RemoteStoreError(`S3 did not return an upload id for '${key}'`, { path: key, backend: this.name });
        throwIfAborted(signal, key);
      }
      const n = ++partNumber;
      const id = uploadId;
      const task = this.send<UploadPartCommandOutput>(
        new UploadPartCommand({ Bucket: params.Bucket, Key: key, UploadId: id, PartNumber: n, Body: body, ContentLength: body.length, ChecksumAlgorithm: 'CRC32' }),
        key,
        signal,
      ).then(
        (out) => {
          parts[n - 1] = {
            PartNumber: n,
            ETag: out.ETag,
            ...(out.ChecksumCRC32 ? { ChecksumCRC32: out.ChecksumCRC32 } : {}),
          };
        },
        (err) => {
          partError ??= err;
        },
      );
      inflight.add(task);
      void task.finally(() => inflight.delete(task));
      while (inflight.size >= uploadConcurrency) await Promise.race(inflight);
      if (partError !== undefined) throw partError;
    };

    try {
      for await (const chunk of contentChunks(content, { signal, onProgress: options.onProgress, path: key })) {
        size += chunk.length;
        pending.push(chunk);
        pendingLength += chunk.length;
        // Up to the threshold it may still be one PUT.
        if (uploadId === undefined && pendingLength <= multipartThreshold) continue;
        while (pendingLength >= partSize) {
          const all = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingLength);
          const rest = all.subarray(partSize);
          pending = rest.length > 0 ? [rest] : [];
          pendingLength = rest.length;
          await startPart(all.subarray(0, partSize));
        }
      }
      const last = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingLength);
      if (uploadId === undefined) {
        const put = await this.conditional(
          this.send<Record<string, string | undefined>>(new PutObjectCommand({ ...params, Body: last, ContentLength: last.length }), key, signal),
          key,
          IfNoneMatch !== undefined,
        );
        return { size, put };
      }
      if (last.length > 0) await startPart(last);
      await Promise.all([...inflight]);
      if (partError !== undefined) throw partError;
      throwIfAborted(signal, key);
      const put = await this.conditional(
        this.send<Record<string, string | undefined>>(
          new CompleteMultipartUploadCommand({
            Bucket: params.Bucket,
            Key: key,
            UploadId: uploadId,
            MultipartUpload: { Parts: parts },
            ...(IfNoneMatch ? { IfNoneMatch } : {}),
          }),
          key,
          signal,
        ),
        key,
        IfNoneMatch !== undefined,
      );
      uploadId = undefined; // committed: nothing to abort
      return { size, put };
    } catch (err) {
      if (uploadId !== undefined) await this.abortUpload(key, uploadId, inflight);
      if (signal?.aborted) throw new AbortError(`Write aborted: '${key}'`, { path: key, backend: this.name, cause: err });
      if (err instanceof RemoteStoreError || err instanceof TypeError || err instanceof RangeError) throw err;
      throw new RemoteStoreError(`Write of '${key}' failed: the source failed: ${(err as Error)?.message ?? String(err)}`, {
        path: key,
        backend: this.name,
        cause: err,
      });
    }
  }

  /**
   * A write whose answer was lost (connection reset after the server committed) is retried
   * by the SDK, and the retry of a conditional write then fails — 412 for a PUT, NoSuchUpload
   * for a completed multipart upload. Whose object it is cannot be known (identical bytes have
   * identical ETags), so it is `AlreadyExists` saying so: safe for exclusive creation, and the
   * same rule as the native path (crates/core write.rs `settle`).
   */
  private async conditional<T>(sending: Promise<T>, key: string, createOnly: boolean): Promise<T> {
    try {
      return await sending;
    } catch (err) {
      const attempts = ((err as RemoteStoreError).cause as ErrorShape | undefined)?.$metadata?.attempts ?? 1;
      if (attempts <= 1 || !(err instanceof AlreadyExists || err instanceof NotFound)) throw err;
      if (err instanceof NotFound) {
        // NoSuchUpload on a retried completion: the first one may have committed.
        const h = await this.head(key).catch(() => undefined);
        if (h === undefined) throw err;
        if (!createOnly) return h as T; // an overwrite that landed (the last writer wins anyway)
      }
      throw new AlreadyExists(`File already exists: '${key}' (an answer of this write was lost: it may be its own)`, {
        path: key,
        backend: this.name,
        cause: err,
      });
    }
  }

  /**
   * Waits for parts in flight, then aborts the upload (ignoring the signal: cleanup must run).
   * When the server cannot be reached, the abort is deferred to later writes and close().
   */
  private async abortUpload(key: string, uploadId: string, inflight: Set<Promise<void>>): Promise<void> {
    await Promise.allSettled([...inflight]);
    const abort = async () => {
      try {
        await this.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }), key);
      } catch (err) {
        if (!(err instanceof NotFound)) throw err; // NoSuchUpload: already gone
      }
    };
    await abort().catch(() => this.deferAbort(uploadId, key, abort));
  }

  /** A PUT is atomic, and streamed writes abort their multipart upload on failure. */
  writeAtomic(key: string, content: WriteContent, options: BackendWriteOptions): Promise<WriteResult> {
    return this.write(key, content, options);
  }

  // ---- deletes ---------------------------------------------------------------------

  async delete(key: string, options: { missingOk: boolean } & SignalOptions): Promise<void> {
    this.checkOpen();
    if ((await this.head(key, options.signal)) === undefined) {
      if (await this.probeFolder(key, options.signal)) {
        throw this.notAFile(key);
      }
      if (options.missingOk) return;
      throw new NotFound(`File not found: '${key}'`, { path: key, backend: this.name });
    }
    await this.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }), key, options.signal);
  }

  async deleteFolder(key: string, options: { recursive: boolean; missingOk: boolean } & SignalOptions): Promise<void> {
    this.checkOpen();
    if (key === '') throw new InvalidPath("Cannot delete the root folder: ''", { path: key, backend: this.name });
    if (!(await this.hasChildren(key, options.signal))) {
      if (await this.probeFile(key, options.signal)) {
        throw this.notAFolder(key);
      }
      if (options.missingOk) return;
      throw new NotFound(`Folder not found: '${key}'`, { path: key, backend: this.name });
    }
    if (!options.recursive) throw new DirectoryNotEmpty(`Folder not empty: '${key}'`, { path: key, backend: this.name });
    let batch: string[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const out = await this.send<{ Errors?: Array<{ Key?: string; Code?: string; Message?: string }> }>(
        new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
        key,
        options.signal,
      );
      batch = [];
      const failed = out.Errors?.filter((e) => e.Code !== 'NoSuchKey') ?? [];
      if (failed.length > 0) {
        const first = failed[0];
        throw this.mapError({ name: first.Code, message: first.Message }, first.Key ?? key, 'S3 delete');
      }
    };
    for await (const page of this.pages(`${key}/`, undefined, options.signal, key)) {
      for (const obj of page.Contents ?? []) {
        if (obj.Key !== undefined) batch.push(obj.Key);
        if (batch.length === 1000) await flush();
      }
    }
    await flush();
  }

  // ---- listing ---------------------------------------------------------------------

  /** Pages of ListObjectsV2; a missing bucket lists as empty. */
  private async *pages(prefix: string, delimiter: string | undefined, signal: AbortSignal | undefined, key: string): AsyncGenerator<ListObjectsV2CommandOutput> {
    let token: string | undefined;
    do {
      let out: ListObjectsV2CommandOutput;
      try {
        out = await this.send<ListObjectsV2CommandOutput>(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, Delimiter: delimiter, ContinuationToken: token }),
          key,
          signal,
        );
      } catch (err) {
        if (err instanceof NotFound) return;
        throw err;
      }
      yield out;
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
  }

  private listedFile(objKey: string, o: { Size?: number; LastModified?: Date; ETag?: string }): FileInfo {
    const info: FileInfo = { path: objKey, name: baseName(objKey), size: o.Size ?? 0, modifiedAt: o.LastModified ?? new Date(0) };
    const etag = S3Backend.etag(o.ETag);
    if (etag) info.etag = etag;
    return info;
  }

  /** Files and subfolders directly below `key` (one delimiter listing). */
  private async *level(key: string, signal?: AbortSignal): AsyncGenerator<{ file?: FileInfo; folder?: string }> {
    const prefix = key === '' ? '' : `${key}/`;
    for await (const page of this.pages(prefix, '/', signal, key)) {
      for (const o of page.Contents ?? []) {
        // A key ending in '/' (a marker some tools write) is not a file.
        if (o.Key && !o.Key.endsWith('/') && o.Key !== prefix) yield { file: this.listedFile(o.Key, o) };
      }
      for (const p of page.CommonPrefixes ?? []) {
        if (p.Prefix && p.Prefix.length > prefix.length + 1) yield { folder: p.Prefix.slice(0, -1) };
      }
    }
  }

  async *listFiles(key: string, options: BackendListOptions): AsyncGenerator<FileInfo> {
    this.checkOpen();
    if (options.recursive && options.maxDepth === undefined) {
      // One flat stream of the whole subtree.
      const prefix = key === '' ? '' : `${key}/`;
      for await (const page of this.pages(prefix, undefined, options.signal, key)) {
        for (const o of page.Contents ?? []) {
          if (!o.Key || o.Key.endsWith('/')) continue;
          // Skip keys with empty segments (`a//b`): they cannot be addressed as store paths.
          if (o.Key.slice(prefix.length).split('/').includes('')) continue;
          yield this.listedFile(o.Key, o);
        }
      }
      return;
    }
    const walk = async function* (this: S3Backend, folder: string, depth: number): AsyncGenerator<FileInfo> {
      const subfolders: string[] = [];
      for await (const entry of this.level(folder, options.signal)) {
        if (entry.file) yield entry.file;
        else if (entry.folder) subfolders.push(entry.folder);
      }
      if (options.recursive && (options.maxDepth === undefined || depth < options.maxDepth)) {
        for (const sub of subfolders) yield* walk.call(this, sub, depth + 1);
      }
    };
    yield* walk.call(this, key, 0);
  }

  async *listFolders(key: string, options: SignalOptions = {}): AsyncGenerator<FolderEntry> {
    this.checkOpen();
    for await (const entry of this.level(key, options.signal)) {
      if (entry.folder) yield this.folderEntry(entry.folder);
    }
  }

  override async *iterChildren(key: string, options: SignalOptions = {}): AsyncGenerator<ChildEntry> {
    this.checkOpen();
    const folders: string[] = [];
    for await (const entry of this.level(key, options.signal)) {
      if (entry.file) yield { kind: 'file', ...entry.file };
      else if (entry.folder) folders.push(entry.folder);
    }
    for (const f of folders) yield { kind: 'folder', ...this.folderEntry(f) };
  }

  // ---- move / copy -----------------------------------------------------------------

  async copy(src: string, dst: string, options: { overwrite: boolean } & SignalOptions): Promise<void> {
    this.checkOpen();
    const h = await this.headFile(src, options.signal, 'Source');
    if (src === dst) return;
    await this.checkWriteTarget(dst, options);
    await this.send(
      new CopyObjectCommand({
        Bucket: this.bucket,
        Key: dst,
        CopySource: `${this.bucket}/${src.split('/').map(encodeURIComponent).join('/')}`,
        MetadataDirective: 'COPY',
        ...copyHeaders(this.writeDefaults, h),
        ...(options.overwrite ? {} : { IfNoneMatch: '*' }),
      }),
      dst,
      options.signal,
    );
  }

  /** Copy, verify, then delete the source: never atomic (a crash can leave both). */
  async move(src: string, dst: string, options: { overwrite: boolean } & SignalOptions): Promise<void> {
    this.checkOpen();
    const h = await this.headFile(src, options.signal, 'Source');
    if (src === dst) return;
    await this.copy(src, dst, options);
    const copied = await this.head(dst, options.signal);
    if (!copied || (h.ContentLength !== undefined && copied.ContentLength !== h.ContentLength)) {
      throw new RemoteStoreError(`Move of '${src}' to '${dst}' failed: the copy could not be verified; the source was kept`, {
        path: src,
        backend: this.name,
      });
    }
    await this.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: src }), src, options.signal);
  }
}

/** Compile-time check. */
export type _S3IsBackend = S3Backend extends Backend ? true : never;

/** The option names the `s3` backend type accepts in a registry config (snake_case). */
export const S3_OPTION_NAMES = [
  'bucket',
  'key',
  'secret',
  'token',
  'region_name',
  'endpoint_url',
  'tls_ca_bundle',
  'client_options',
  'retry',
  'reject_write_under_file_ancestor',
  'max_sockets',
  ...MULTIPART_OPTION_NAMES,
] as const;

/**
 * The registry factory of type `s3`: refuses unknown options (naming them), takes the
 * backend's `retry` from the config entry when the options do not carry one.
 * Register with `Registry.registerBackend('s3', createS3Backend)`.
 */
export function createS3Backend(options: Record<string, unknown>, context: { name?: string; retry?: RetryPolicy } = {}): S3Backend {
  return new S3Backend(s3FactoryOptions('s3', options, context));
}

/** Shared by the registry factories of `s3` and `s3-arrow`: unknown options refused, the entry's retry applied. */
export function s3FactoryOptions(type: string, options: Record<string, unknown>, context: { retry?: RetryPolicy }): S3BackendOptions {
  const known: readonly string[] = S3_OPTION_NAMES;
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new TypeError(`Unknown option '${key}' for backend type '${type}'. Known options: [${known.join(', ')}]`);
    }
  }
  return { ...(options as unknown as S3BackendOptions), retry: (options.retry as RetryPolicy | undefined) ?? context.retry };
}

/** Destroys `stream` with an AbortError when `signal` fires (the listener goes with the stream). */
export function abortStreamOn(signal: AbortSignal, stream: Readable, key: string, backend: string): void {
  const onAbort = () => void stream.destroy(new AbortError(`Read aborted: '${key}'`, { path: key, backend, cause: signal.reason }));
  if (signal.aborted) {
    onAbort();
    return;
  }
  signal.addEventListener('abort', onAbort, { once: true });
  stream.once('close', () => signal.removeEventListener('abort', onAbort));
}

/** Waits `ms`, or rejects with our AbortError as soon as `signal` fires. */
function sleep(ms: number, signal: AbortSignal | undefined, key: string, backend: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortError(`Operation aborted: '${key}'`, { path: key, backend, cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}
