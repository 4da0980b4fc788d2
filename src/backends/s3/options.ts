/**
 * The options of both S3 backends, validated once into {@link S3Settings}: every part of the
 * wing (SDK client, control path, either data path) reads the same normalised values, so no
 * rule (endpoint, CA bundle, key/secret pairing, region) is decided twice.
 */
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { refuseUnknownOptions } from '../../config';
import { describe, RetryPolicy } from '../../retry';
import { revealSecret, Secret } from '../../secret';
import { normalizeClientOptions, resolveRegion, type S3ClientOptions } from './client-options';
import { normalizeEndpoint, resolveCaBundle } from './connection';
import { MULTIPART_OPTION_NAMES, multipartOptions, type MultipartTuning } from './multipart';

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
  /** Bytes per multipart part, 5 MiB to 5 GiB (default 8 MiB). See multipart.ts. */
  part_size?: number;
  partSize?: number;
  /** Parts in flight per upload, 1 to 1000 (default 4 on `s3`, 8 on `s3-arrow`). */
  upload_concurrency?: number;
  uploadConcurrency?: number;
  /** Streamed writes up to this many bytes (and never less than one part) are one PUT (default 8 MiB). */
  multipart_threshold?: number;
  multipartThreshold?: number;
}

/** The option names the `s3` and `s3-arrow` backend types accept in a registry config (snake_case). */
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

const DEFAULT_MAX_SOCKETS = 256;

/** Static credentials from the options. */
export interface StaticCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

function pick<T>(o: Record<string, unknown>, snake: string, camel: string): T | undefined {
  return (o[snake] ?? o[camel]) as T | undefined;
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
 * The validated options. Credentials sit in private fields and come out through a method
 * only (an inspect, even with getters, shows no secret). No I/O here but for the CA bundle
 * check; the region is resolved on first use (it may read the shared config file).
 */
export class S3Settings {
  readonly bucket: string;
  readonly endpointUrl: string | undefined;
  readonly regionName: string | undefined;
  /** The CA bundle both paths trust (see {@link S3Settings.constructor}: `client_kwargs.verify` wins). */
  readonly caBundle: string | undefined;
  /** False when `client_options.client_kwargs.verify` is false: TLS certificates are not checked. */
  readonly tlsVerify: boolean;
  readonly retry: RetryPolicy;
  readonly rejectWriteUnderFileAncestor: boolean;
  /** `max_sockets`: connections per host. */
  readonly maxSockets: number;
  /** `part_size`, `upload_concurrency`, `multipart_threshold` as given (each data path has its defaults). */
  readonly multipart: Partial<MultipartTuning>;
  readonly #key: string | undefined;
  readonly #secret: string | undefined;
  readonly #token: string | undefined;
  readonly #clientOptions: S3ClientOptions;
  #region: string | undefined;

  constructor(options: S3BackendOptions) {
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
    this.#clientOptions = normalizeClientOptions(pick<Record<string, unknown>>(o, 'client_options', 'clientOptions'), { endpointUrl: this.endpointUrl });
    if (this.#clientOptions.anon && this.#key !== undefined) {
      throw new TypeError("s3 options 'key'/'secret' and client_options.anon (unsigned requests) exclude each other: choose one");
    }
    // As in Python, where tls_ca_bundle is set into client_kwargs.verify only if absent: an
    // explicit verify wins — false checks no certificate, a path is the bundle to trust.
    const tlsCaBundle = resolveCaBundle(pick<unknown>(o, 'tls_ca_bundle', 'tlsCaBundle'));
    const verify = this.#clientOptions.verify;
    this.tlsVerify = verify !== false;
    this.caBundle = verify === false ? undefined : typeof verify === 'string' ? resolveCaBundle(verify, {}, 'client_options.client_kwargs.verify') : tlsCaBundle;
    const retry = o.retry;
    // The backend's retry policy wins; without one, client_options' attempts (config_kwargs.retries) apply.
    const attempts = this.#clientOptions.retryMaxAttempts;
    if (retry !== undefined && retry !== null) this.retry = RetryPolicy.from(retry);
    else this.retry = attempts === undefined ? new RetryPolicy() : RetryPolicy.from({ max_attempts: attempts }, 'client_options.config_kwargs.retries');
    const reject = pick<unknown>(o, 'reject_write_under_file_ancestor', 'rejectWriteUnderFileAncestor') ?? false;
    if (typeof reject !== 'boolean') {
      // Boolean('false') is true: a quoted YAML value must not switch the check on.
      throw new TypeError(`s3 option 'reject_write_under_file_ancestor' must be true or false, got ${describe(reject)}`);
    }
    this.rejectWriteUnderFileAncestor = reject;
    // config_kwargs.max_pool_connections is the Python spelling of the same bound.
    const maxSockets = pick<unknown>(o, 'max_sockets', 'maxSockets') ?? this.#clientOptions.maxPoolConnections ?? DEFAULT_MAX_SOCKETS;
    if (typeof maxSockets !== 'number' || !Number.isInteger(maxSockets) || maxSockets < 1) {
      throw new RangeError(`s3 option 'max_sockets' must be a positive integer, got ${describe(maxSockets)}`);
    }
    this.maxSockets = maxSockets;
    this.multipart = multipartOptions(o);
  }

  /** `client_options` as normalised (see client-options.ts). */
  clientOptions(): S3ClientOptions {
    return this.#clientOptions;
  }

  /** The region both paths use (see resolveRegion: the options, env, then the shared-config profile), decided on first use. */
  region(): string {
    this.#region ??= resolveRegion(this.regionName, this.#clientOptions);
    return this.#region;
  }

  /**
   * The endpoint both paths talk to: `endpoint_url`, else a string
   * `client_options.endpoint` (the SDK would use it), else undefined (AWS).
   */
  endpoint(): string | undefined {
    return this.endpointUrl ?? this.#clientOptions.endpoint;
  }

  /** Path-style addressing (on by default with a custom endpoint; `client_options` may choose). */
  pathStyle(): boolean {
    const style = this.#clientOptions.addressingStyle;
    return style === 'path' || ((style ?? 'auto') === 'auto' && this.endpoint() !== undefined);
  }

  /** The static credentials from the options, if both key and secret were given. */
  staticCredentials(): StaticCredentials | undefined {
    if (this.#key === undefined || this.#secret === undefined) return undefined;
    return { accessKeyId: this.#key, secretAccessKey: this.#secret, ...(this.#token ? { sessionToken: this.#token } : {}) };
  }
}

/** Shared by the registry factories of `s3` and `s3-arrow`: unknown options refused, the entry's retry applied. */
export function s3FactoryOptions(type: string, options: Record<string, unknown>, context: { retry?: RetryPolicy }): S3BackendOptions {
  refuseUnknownOptions(type, options, S3_OPTION_NAMES);
  return { ...(options as unknown as S3BackendOptions), retry: (options.retry as RetryPolicy | undefined) ?? context.retry };
}
