/**
 * `client_options` of the S3 backends, normalised once.
 *
 * A registry config written for the Python `remote-store` passes `client_options` to s3fs
 * (`S3FileSystem(**client_options)`): `s3_additional_kwargs` (headers of every write),
 * `client_kwargs` (botocore client arguments), `config_kwargs` (botocore `Config`),
 * `requester_pays`, `anon`, `profile`, … This module reads that shape (and the AWS SDK v3
 * `S3ClientConfig` keys that version 0.1 of this package accepted) into one typed value that
 * both data paths of the S3 backends honour. A key that cannot be honoured is a `ConfigError`
 * naming it: nothing is dropped silently.
 *
 * CONTRACT (team): the `S3ClientOptions` shape below is what `src/backends/s3/options.ts`
 * consumes and applies on the SDK path and the native path. Fields may be added; agree with
 * the lead first.
 */

/** Headers applied to every write (PutObject, CreateMultipartUpload, CopyObject). */
export interface S3WriteDefaults {
  /** `x-amz-server-side-encryption`. */
  serverSideEncryption?: 'AES256' | 'aws:kms' | 'aws:kms:dsse';
  /** `x-amz-server-side-encryption-aws-kms-key-id` (with `aws:kms` / `aws:kms:dsse`). */
  sseKmsKeyId?: string;
  /** `x-amz-server-side-encryption-bucket-key-enabled`. */
  bucketKeyEnabled?: boolean;
  /** Canned ACL, `x-amz-acl` (e.g. `bucket-owner-full-control`). */
  acl?: string;
  /** `x-amz-storage-class`, unless a write names its own. */
  storageClass?: string;
  /** Defaults for the per-write HTTP attributes, unless a write names its own. */
  contentType?: string;
  cacheControl?: string;
  contentDisposition?: string;
  contentEncoding?: string;
}

export interface S3ClientOptions {
  /** From `s3_additional_kwargs` (Python) — applied to every write on both paths. */
  writeDefaults: S3WriteDefaults;
  /** `requester_pays` / `s3_additional_kwargs.RequestPayer: 'requester'`: `x-amz-request-payer` on every request. */
  requesterPays: boolean;
  /** `client_kwargs.region_name` (or SDK `region`). */
  region?: string;
  /** `client_kwargs.endpoint_url` (or SDK `endpoint`), normalised like `endpoint_url`. */
  endpoint?: string;
  /** `client_kwargs.verify`: `false` turns TLS verification off; a string is a CA bundle path. */
  verify?: boolean | string;
  /** `config_kwargs.max_pool_connections`: connections per host (both paths). */
  maxPoolConnections?: number;
  /** `config_kwargs.connect_timeout`, seconds. */
  connectTimeout?: number;
  /** `config_kwargs.read_timeout`, seconds without a byte on an open connection. */
  readTimeout?: number;
  /** `config_kwargs.s3.addressing_style` (or SDK `forcePathStyle: true` → 'path'). */
  addressingStyle?: 'path' | 'virtual' | 'auto';
  /** `anon`: unsigned requests (public buckets). */
  anon: boolean;
  /** `profile`: the shared-config profile credentials and region come from. */
  profile?: string;
  /**
   * AWS SDK v3 `S3ClientConfig` keys given directly (camelCase), as version 0.1 accepted,
   * other than the ones mapped above. SDK path only; the native path refuses what it cannot honour.
   */
  sdkConfig: Record<string, unknown>;
}

/**
 * Placeholder until the Python-shaped translation lands: every key is taken as an SDK config
 * key (the 0.1 behaviour), `region`/`endpoint`/`forcePathStyle` mapped.
 */
export function normalizeClientOptions(raw: Record<string, unknown> | undefined): S3ClientOptions {
  const sdkConfig: Record<string, unknown> = { ...(raw ?? {}) };
  const out: S3ClientOptions = { writeDefaults: {}, requesterPays: false, anon: false, sdkConfig };
  if (typeof sdkConfig.region === 'string') out.region = sdkConfig.region;
  if (typeof sdkConfig.endpoint === 'string') out.endpoint = sdkConfig.endpoint;
  if (typeof sdkConfig.forcePathStyle === 'boolean') out.addressingStyle = sdkConfig.forcePathStyle ? 'path' : 'virtual';
  return out;
}
