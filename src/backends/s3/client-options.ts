/**
 * `client_options` of the S3 backends, normalised once.
 *
 * A registry config written for the Python `remote-store` passes `client_options` to s3fs
 * (`S3FileSystem(**client_options)`): `s3_additional_kwargs` (headers of every write),
 * `client_kwargs` (botocore client arguments), `config_kwargs` (botocore `Config`),
 * `requester_pays`, `anon`, `profile`, … This module reads that shape (and the AWS SDK v3
 * `S3ClientConfig` keys that version 0.1 of this package accepted) into one typed value that
 * both data paths of the S3 backends honour. A key that cannot be honoured is a `ConfigError`
 * naming it: nothing is dropped silently. Keys that only tune s3fs's own machinery (its
 * listing cache, its instance cache, its block size) have no counterpart to tune here and are
 * accepted as equivalent; docs/migrating-from-python.md lists every key with its verdict.
 *
 * CONTRACT (team): the `S3ClientOptions` shape below is what `src/backends/s3/options.ts`
 * consumes and applies on the SDK path and the native path. Fields may be added; agree with
 * the lead first.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { AwsCredentialIdentity } from '@smithy/types';
import { checkDepth, ConfigError } from '../../config';
import { revealSecret, Secret } from '../../secret';
import { normalizeEndpoint } from './connection';

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
  /** `client_kwargs.region_name` (or `config_kwargs.region_name`, or SDK `region`). See {@link resolveRegion}. */
  region?: string;
  /** `client_kwargs.endpoint_url` / `endpoint_url` (or SDK `endpoint`), normalised like `endpoint_url`. */
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
   * Attempts per request in all (the first one included), from `config_kwargs.retries`
   * (`total_max_attempts`, or botocore's `max_attempts` retries + 1) or SDK `maxAttempts`.
   * As in the Python library, a backend's `retry` policy takes precedence over it.
   */
  retryMaxAttempts?: number;
  /**
   * AWS SDK v3 `S3ClientConfig` keys given directly (camelCase), as version 0.1 accepted,
   * other than the ones mapped above; also what a Python key maps to on the SDK only
   * (`credentials` from `key`/`secret`/`token`, as a provider so that no plain secret sits in
   * a visible object; `requestChecksumCalculation`). SDK path only; the native path refuses
   * what it cannot honour (credentials reach it through the SDK client's provider).
   */
  sdkConfig: Record<string, unknown>;
}

/** What the caller knows besides `client_options`. */
export interface NormalizeContext {
  /** The backend's `endpoint_url`, when given: with it, `use_ssl`/`tls` is decided by its scheme. */
  endpointUrl?: string;
}

// ---- value checks: errors name the option and the expected type, never the value --------------

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Secret) return 'a credential';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'boolean') return 'true/false';
  return `a ${typeof value}`;
}

function invalid(where: string, expected: string, value: unknown): never {
  throw new ConfigError(`${where} must be ${expected}, got ${kindOf(value)}`, where);
}

function refuse(where: string, why: string): never {
  throw new ConfigError(`${where} is not supported: ${why}`, where);
}

function bool(value: unknown, where: string): boolean {
  return typeof value === 'boolean' ? value : invalid(where, 'true or false', value);
}

function text(value: unknown, where: string): string {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : invalid(where, 'a non-empty string', value);
}

function oneOf<T extends string>(value: unknown, where: string, allowed: readonly T[]): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  return invalid(where, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
}

function count(value: unknown, where: string, min: number): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= min) return value;
  return invalid(where, `a whole number >= ${min}`, value);
}

function seconds(value: unknown, where: string): number {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value;
  return invalid(where, 'a positive number of seconds', value);
}

function section(value: unknown, where: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value === 'object' && !Array.isArray(value) && !(value instanceof Secret)) return value as Record<string, unknown>;
  return invalid(where, 'a mapping', value);
}

/** A credential given as a string, a number or a Secret (the registry wraps them). */
function credential(value: unknown, where: string): string {
  if (typeof value === 'string' || typeof value === 'number' || value instanceof Secret) {
    const plain = revealSecret(value)!;
    if (plain !== '') return plain;
  }
  return invalid(where, 'a non-empty string', value);
}

// ---- the draft being filled: one value per field, wherever the config spelled it -------------

type Field = 'region' | 'endpoint' | 'addressingStyle' | 'retryMaxAttempts' | 'useSsl';

class Draft {
  readonly out: S3ClientOptions = { writeDefaults: {}, requesterPays: false, anon: false, sdkConfig: {} };
  readonly #setAt = new Map<Field, { where: string; value: unknown }>();
  /** Static credentials, and the section (`client_options`, `client_options.client_kwargs`, …) that gave them. */
  credentials: { where: string; key?: string; secret?: string; token?: string } | undefined;

  /** Records a field; the same field given twice with different values is a conflict naming both places. */
  set<F extends Field>(field: F, value: unknown, where: string): void {
    const earlier = this.#setAt.get(field);
    if (earlier && earlier.value !== value) {
      throw new ConfigError(`${where} and ${earlier.where} disagree: give it once`, where);
    }
    this.#setAt.set(field, { where, value });
  }

  get(field: Field): { where: string; value: unknown } | undefined {
    return this.#setAt.get(field);
  }

  /** A part of static credentials; parts given in two sections (key here, secret there) are a conflict. */
  credential(part: 'key' | 'secret' | 'token', value: string, where: string, section: string): void {
    if (this.credentials && this.credentials.where !== section) {
      throw new ConfigError(`${where} and ${this.credentials.where} both give credentials: give them in one place`, where);
    }
    this.credentials ??= { where: section };
    this.credentials[part] = value;
  }
}

type Rule = (value: unknown, where: string, draft: Draft) => void;

const ignoredAsEquivalent =
  (check: (value: unknown, where: string) => unknown): Rule =>
  (value, where) => {
    check(value, where);
  };

const onlyDefault =
  <T>(expected: T, check: (value: unknown, where: string) => T, why: string): Rule =>
  (value, where) => {
    if (check(value, where) !== expected) refuse(where, why);
  };

function optionalCount(value: unknown, where: string): unknown {
  return value === null ? null : count(value, where, 0);
}

function optionalSeconds(value: unknown, where: string): unknown {
  return value === null ? null : seconds(value, where);
}

function useSsl(value: unknown, where: string, draft: Draft): void {
  if (bool(value, where)) return;
  // botocore takes the scheme of an explicit endpoint_url and ignores use_ssl; without one it would speak http to AWS.
  draft.set('useSsl', false, where);
}

function endpoint(value: unknown, where: string, draft: Draft): void {
  let normalised: string | undefined;
  try {
    normalised = normalizeEndpoint(value, where);
  } catch (err) {
    throw new ConfigError((err as Error).message, where);
  }
  if (normalised !== undefined) draft.set('endpoint', normalised, where);
}

const region: Rule = (value, where, draft) => draft.set('region', text(value, where), where);

const CANNED_ACLS = [
  'private',
  'public-read',
  'public-read-write',
  'authenticated-read',
  'aws-exec-read',
  'bucket-owner-read',
  'bucket-owner-full-control',
] as const;

/** `s3_additional_kwargs`: boto3 parameters s3fs adds to every call that takes them. */
const ADDITIONAL_KWARGS: Record<string, Rule> = {
  ServerSideEncryption: (v, w, d) => (d.out.writeDefaults.serverSideEncryption = oneOf(v, w, ['AES256', 'aws:kms', 'aws:kms:dsse'] as const)),
  SSEKMSKeyId: (v, w, d) => (d.out.writeDefaults.sseKmsKeyId = text(v, w)),
  BucketKeyEnabled: (v, w, d) => (d.out.writeDefaults.bucketKeyEnabled = bool(v, w)),
  ACL: (v, w, d) => (d.out.writeDefaults.acl = oneOf(v, w, CANNED_ACLS)),
  StorageClass: (v, w, d) => {
    if (typeof v !== 'string' || !/^[A-Z][A-Z0-9_]*$/.test(v)) invalid(w, 'a storage class name such as STANDARD_IA', v);
    d.out.writeDefaults.storageClass = v;
  },
  ContentType: (v, w, d) => (d.out.writeDefaults.contentType = text(v, w)),
  CacheControl: (v, w, d) => (d.out.writeDefaults.cacheControl = text(v, w)),
  ContentDisposition: (v, w, d) => (d.out.writeDefaults.contentDisposition = text(v, w)),
  ContentEncoding: (v, w, d) => (d.out.writeDefaults.contentEncoding = text(v, w)),
  RequestPayer: (v, w, d) => {
    oneOf(v, w, ['requester'] as const);
    d.out.requesterPays = true;
  },
};

/** Why the other `s3_additional_kwargs` keys boto3 knows are refused. */
const ADDITIONAL_KWARGS_REFUSED: Record<string, string> = {
  SSECustomerAlgorithm: 'customer-provided keys (SSE-C) must accompany every read, copy and head too; use SSE-S3 or SSE-KMS',
  SSECustomerKey: 'customer-provided keys (SSE-C) must accompany every read, copy and head too; use SSE-S3 or SSE-KMS',
  SSECustomerKeyMD5: 'customer-provided keys (SSE-C) must accompany every read, copy and head too; use SSE-S3 or SSE-KMS',
  SSEKMSEncryptionContext: 'a KMS encryption context is not sent by this package',
  Metadata: 'user metadata is given per write: write(path, data, { metadata })',
  Tagging: 'object tags are not written by this package',
  ExpectedBucketOwner: 'the bucket-owner check is not sent by this package',
  ChecksumAlgorithm: 'the checksum of each write is chosen by this package',
  ContentLanguage: 'not written by this package; contentType, cacheControl, contentDisposition and contentEncoding are',
  Expires: 'not written by this package; cacheControl is',
  WebsiteRedirectLocation: 'not written by this package',
  GrantFullControl: 'grants are not written by this package; use a canned ACL',
  GrantRead: 'grants are not written by this package; use a canned ACL',
  GrantReadACP: 'grants are not written by this package; use a canned ACL',
  GrantWriteACP: 'grants are not written by this package; use a canned ACL',
  ObjectLockMode: 'object lock settings are not written by this package',
  ObjectLockRetainUntilDate: 'object lock settings are not written by this package',
  ObjectLockLegalHoldStatus: 'object lock settings are not written by this package',
};

/** `client_kwargs`: arguments of botocore's `create_client`. */
const CLIENT_KWARGS: Record<string, Rule> = {
  region_name: region,
  endpoint_url: endpoint,
  verify: (v, w, d) => {
    if (typeof v === 'boolean') d.out.verify = v;
    else d.out.verify = text(v, w);
  },
  use_ssl: useSsl,
  aws_access_key_id: (v, w, d) => d.credential('key', credential(v, w), w, 'client_options.client_kwargs'),
  aws_secret_access_key: (v, w, d) => d.credential('secret', credential(v, w), w, 'client_options.client_kwargs'),
  aws_session_token: (v, w, d) => d.credential('token', credential(v, w), w, 'client_options.client_kwargs'),
  api_version: onlyDefault('2006-03-01', (v, w) => text(v, w), "S3 has one API version, '2006-03-01'"),
  config: (_v, w) =>
    // As the Python library does: s3fs already passes a Config built from config_kwargs.
    refuse(w, 'give botocore Config options as client_options.config_kwargs'),
  aws_account_id: ignoredAsEquivalent(text),
};

const S3_CONFIG: Record<string, Rule> = {
  addressing_style: (v, w, d) => d.set('addressingStyle', oneOf(v, w, ['path', 'virtual', 'auto'] as const), w),
  use_accelerate_endpoint: onlyDefault(false, bool, 'S3 Transfer Acceleration endpoints are not used by this package'),
  use_dualstack_endpoint: onlyDefault(false, bool, 'dual-stack endpoints are not used by this package; give endpoint_url'),
  payload_signing_enabled: ignoredAsEquivalent(bool),
  us_east_1_regional_endpoint: ignoredAsEquivalent((v, w) => oneOf(v, w, ['regional', 'legacy'] as const)),
  s3_disable_express_session_auth: (_v, w) => refuse(w, 'S3 Express directory buckets are not supported'),
};

const retryMode: Rule = (v, w) => {
  if (oneOf(v, w, ['standard', 'legacy', 'adaptive'] as const) === 'adaptive') {
    refuse(w, "client-side rate limiting ('adaptive') is not implemented; 'standard' backs off exponentially with jitter");
  }
};

const RETRIES: Record<string, Rule> = {
  // botocore's max_attempts counts retries, not attempts.
  max_attempts: (v, w, d) => d.set('retryMaxAttempts', count(v, w, 0) + 1, w),
  total_max_attempts: (v, w, d) => d.set('retryMaxAttempts', count(v, w, 1), w),
  mode: retryMode,
};

/** `config_kwargs`: botocore `Config` options. */
const CONFIG_KWARGS: Record<string, Rule> = {
  region_name: region,
  max_pool_connections: (v, w, d) => (d.out.maxPoolConnections = count(v, w, 1)),
  connect_timeout: (v, w, d) => (d.out.connectTimeout = seconds(v, w)),
  read_timeout: (v, w, d) => (d.out.readTimeout = seconds(v, w)),
  retries: (v, w, d) => applyRules(section(v, w), w, RETRIES, d),
  s3: (v, w, d) => applyRules(section(v, w), w, S3_CONFIG, d),
  signature_version: onlyDefault('s3v4', (v, w) => text(v, w), "requests are signed with SigV4 ('s3v4'); for unsigned requests set anon: true"),
  request_checksum_calculation: (v, w, d) =>
    (d.out.sdkConfig.requestChecksumCalculation = oneOf(v, w, ['when_supported', 'when_required'] as const).toUpperCase()),
  response_checksum_validation: (v, w, d) =>
    (d.out.sdkConfig.responseChecksumValidation = oneOf(v, w, ['when_supported', 'when_required'] as const).toUpperCase()),
  parameter_validation: onlyDefault(true, bool, 'requests are always validated'),
  tcp_keepalive: ignoredAsEquivalent(bool),
  inject_host_prefix: ignoredAsEquivalent(bool),
  endpoint_discovery_enabled: ignoredAsEquivalent(bool),
  account_id_endpoint_mode: ignoredAsEquivalent((v, w) => oneOf(v, w, ['preferred', 'disabled', 'required'] as const)),
  disable_request_compression: ignoredAsEquivalent(bool),
  request_min_compression_size_bytes: ignoredAsEquivalent((v, w) => count(v, w, 0)),
  use_dualstack_endpoint: onlyDefault(false, bool, 'dual-stack endpoints are not used by this package; give endpoint_url'),
  use_fips_endpoint: onlyDefault(false, bool, 'FIPS endpoints are not chosen by this package; give endpoint_url'),
  proxies: (_v, w) => refuse(w, 'HTTP proxies are not supported'),
  proxies_config: (_v, w) => refuse(w, 'HTTP proxies are not supported'),
  client_cert: (_v, w) => refuse(w, 'client certificates (mutual TLS) are not supported'),
  user_agent: (_v, w) => refuse(w, 'the user agent is not configurable'),
  user_agent_extra: (_v, w) => refuse(w, 'the user agent is not configurable'),
  user_agent_appid: (_v, w) => refuse(w, 'the user agent is not configurable'),
  defaults_mode: (_v, w) => refuse(w, 'give connect_timeout, read_timeout and retries instead'),
  ignore_configured_endpoint_urls: (_v, w) => refuse(w, 'endpoints come from endpoint_url only'),
  client_context_params: (_v, w) => refuse(w, 'not supported'),
  auth_scheme_preference: (_v, w) => refuse(w, 'requests are signed with SigV4'),
  sigv4a_signing_region_set: (_v, w) => refuse(w, 'requests are signed with SigV4, not SigV4a'),
  s3_disable_express_session_auth: (_v, w) => refuse(w, 'S3 Express directory buckets are not supported'),
};

/** The top level: `S3FileSystem` arguments (and those s3fs hands to fsspec and to its aiobotocore session). */
const S3FS_KWARGS: Record<string, Rule> = {
  anon: (v, w, d) => (d.out.anon = bool(v, w)),
  endpoint_url: endpoint,
  key: (v, w, d) => d.credential('key', credential(v, w), w, 'client_options'),
  secret: (v, w, d) => d.credential('secret', credential(v, w), w, 'client_options'),
  token: (v, w, d) => d.credential('token', credential(v, w), w, 'client_options'),
  username: (v, w, d) => d.credential('key', credential(v, w), w, 'client_options'),
  password: (v, w, d) => d.credential('secret', credential(v, w), w, 'client_options'),
  use_ssl: useSsl,
  client_kwargs: (v, w, d) => applyRules(section(v, w), w, CLIENT_KWARGS, d),
  config_kwargs: (v, w, d) => applyRules(section(v, w), w, CONFIG_KWARGS, d),
  s3_additional_kwargs: (v, w, d) => applyRules(section(v, w), w, ADDITIONAL_KWARGS, d, ADDITIONAL_KWARGS_REFUSED),
  requester_pays: (v, w, d) => {
    if (bool(v, w)) d.out.requesterPays = true;
  },
  profile: (v, w, d) => (d.out.profile = text(v, w)),
  version_aware: onlyDefault(false, bool, 'object versions are not read or listed by this package'),
  cache_regions: onlyDefault(false, bool, "each bucket's region is not looked up; give region_name"),
  asynchronous: onlyDefault(false, bool, 'the Node API is asynchronous already'),
  // s3fs's own machinery, nothing here to tune: listings are never cached (s3fs's cache is off by
  // default in the Python library too), each backend owns its client, reads fetch what is asked.
  use_listings_cache: ignoredAsEquivalent(bool),
  listings_expiry_time: ignoredAsEquivalent(optionalSeconds),
  max_paths: ignoredAsEquivalent(optionalCount),
  skip_instance_cache: ignoredAsEquivalent(bool),
  default_block_size: ignoredAsEquivalent((v, w) => count(v, w, 1)),
  default_fill_cache: ignoredAsEquivalent(bool),
  default_cache_type: ignoredAsEquivalent(text),
  max_concurrency: ignoredAsEquivalent((v, w) => count(v, w, 1)),
  fixed_upload_size: ignoredAsEquivalent(bool),
  local_expiry_check: ignoredAsEquivalent(bool),
  session: (_v, w) => refuse(w, 'an aiobotocore session is a Python object; give credentials, profile or region_name'),
  loop: (_v, w) => refuse(w, 'an asyncio loop is a Python object'),
};

const SDK_CREDENTIALS: Record<string, Rule> = {
  accessKeyId: (v, w, d) => d.credential('key', credential(v, w), w, 'client_options.credentials'),
  secretAccessKey: (v, w, d) => d.credential('secret', credential(v, w), w, 'client_options.credentials'),
  sessionToken: (v, w, d) => d.credential('token', credential(v, w), w, 'client_options.credentials'),
};

/** AWS SDK v3 `S3ClientConfig` keys (camelCase), accepted as version 0.1 did. */
const SDK_KEYS: Record<string, Rule> = {
  region,
  endpoint: (v, w, d) => (typeof v === 'string' ? endpoint(v, w, d) : (d.out.sdkConfig.endpoint = v)),
  forcePathStyle: (v, w, d) => d.set('addressingStyle', bool(v, w) ? 'path' : 'virtual', w),
  credentials: (v, w, d) => {
    // A provider function (programmatic use) goes to the SDK as it is; the native path asks the SDK client.
    if (typeof v === 'function') d.out.sdkConfig.credentials = v;
    else applyRules(section(v, w), w, SDK_CREDENTIALS, d);
  },
  maxAttempts: (v, w, d) => d.set('retryMaxAttempts', count(v, w, 1), w),
  retryMode,
  tls: useSsl,
  profile: (v, w, d) => (d.out.profile = text(v, w)),
  // SDK path only: version 0.1 passed these to the SDK client, and so does this version.
  ...Object.fromEntries(
    [
      'requestHandler',
      'requestChecksumCalculation',
      'responseChecksumValidation',
      'useAccelerateEndpoint',
      'useDualstackEndpoint',
      'useFipsEndpoint',
      'useArnRegion',
      'useGlobalEndpoint',
      'disableMultiregionAccessPoints',
      'followRegionRedirects',
      'bucketEndpoint',
      'disableHostPrefix',
      'signingEscapePath',
      'systemClockOffset',
      'customUserAgent',
      'userAgentAppId',
      'logger',
      'retryStrategy',
      'defaultsMode',
      'expectContinueHeader',
    ].map((key): [string, Rule] => [key, (v, _w, d) => (d.out.sdkConfig[key] = v)]),
  ),
};

function applyRules(
  values: Record<string, unknown>,
  where: string,
  rules: Record<string, Rule>,
  draft: Draft,
  refused: Record<string, string> = {},
): void {
  for (const [key, value] of Object.entries(values)) {
    const at = `${where}.${key}`;
    if (value === undefined) continue;
    const rule = Object.hasOwn(rules, key) ? rules[key] : undefined;
    if (rule) rule(value, at, draft);
    else if (Object.hasOwn(refused, key)) refuse(at, refused[key]!);
    else {
      throw new ConfigError(`${at} is not a known option here. Known: [${Object.keys(rules).sort().join(', ')}]`, at);
    }
  }
}

/**
 * Reads `client_options` (Python s3fs shape, or AWS SDK v3 camelCase keys) into
 * {@link S3ClientOptions}. Throws a ConfigError naming the key (`client_options.…`) for anything
 * that cannot be honoured or has a value of the wrong type; the message never shows the value.
 */
export function normalizeClientOptions(raw: Record<string, unknown> | undefined, context: NormalizeContext = {}): S3ClientOptions {
  const where = 'client_options';
  checkDepth(raw, where);
  const draft = new Draft();
  applyRules(section(raw, where), where, { ...S3FS_KWARGS, ...SDK_KEYS }, draft);
  const out = draft.out;
  const take = <T>(field: Field): T | undefined => draft.get(field)?.value as T | undefined;
  const regionName = take<string>('region');
  if (regionName !== undefined) out.region = regionName;
  const endpointUrl = take<string>('endpoint');
  if (endpointUrl !== undefined) out.endpoint = endpointUrl;
  const style = take<S3ClientOptions['addressingStyle']>('addressingStyle');
  if (style !== undefined) out.addressingStyle = style;
  const attempts = take<number>('retryMaxAttempts');
  if (attempts !== undefined) out.retryMaxAttempts = attempts;
  const noSsl = draft.get('useSsl');
  if (noSsl && context.endpointUrl === undefined && endpointUrl === undefined) {
    refuse(noSsl.where, 'plain http is used only with an http:// endpoint_url; give endpoint_url');
  }
  const parts = draft.credentials;
  if (parts) {
    if (parts.key === undefined || parts.secret === undefined) {
      throw new ConfigError(`${parts.where}: the access key and the secret must be given together`, parts.where);
    }
    if (out.anon) throw new ConfigError(`${where}.anon is true and ${parts.where} gives credentials: choose one`, `${where}.anon`);
    const identity: AwsCredentialIdentity = { accessKeyId: parts.key, secretAccessKey: parts.secret, ...(parts.token ? { sessionToken: parts.token } : {}) };
    out.sdkConfig.credentials = async () => identity;
  }
  const sse = out.writeDefaults.serverSideEncryption;
  if ((out.writeDefaults.sseKmsKeyId !== undefined || out.writeDefaults.bucketKeyEnabled !== undefined) && sse !== 'aws:kms' && sse !== 'aws:kms:dsse') {
    const at = `${where}.s3_additional_kwargs.${out.writeDefaults.sseKmsKeyId !== undefined ? 'SSEKMSKeyId' : 'BucketKeyEnabled'}`;
    throw new ConfigError(`${at} needs ServerSideEncryption 'aws:kms' or 'aws:kms:dsse'`, at);
  }
  return out;
}

// ---- region --------------------------------------------------------------------------------

/**
 * The region both paths use, decided once: the backend's `region_name`, else the client
 * options' (`client_kwargs.region_name`, …), else `AWS_REGION`, else `AWS_DEFAULT_REGION`, else
 * the `region` of the shared-config profile (`client_options.profile`, else `AWS_PROFILE`, else
 * `default`; file `AWS_CONFIG_FILE`, else `~/.aws/config`), else `us-east-1`. botocore and the
 * AWS SDK resolve it in this order too; the file is read here because the native path needs the
 * answer as a string.
 */
export function resolveRegion(regionName: string | undefined, options: Pick<S3ClientOptions, 'region' | 'profile'>, env: NodeJS.ProcessEnv = process.env): string {
  const given = [regionName, options.region, env.AWS_REGION, env.AWS_DEFAULT_REGION].find((r) => r !== undefined && r.trim() !== '');
  if (given !== undefined) return given.trim();
  return sharedConfigRegion(options.profile ?? (env.AWS_PROFILE || undefined) ?? 'default', env) ?? 'us-east-1';
}

/** The `region` of a profile in the shared config file, or undefined (no file, no profile, no region). */
export function sharedConfigRegion(profile: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = env.AWS_CONFIG_FILE || join(homedir(), '.aws', 'config');
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  // The config file's sections are [default] and [profile name]; keys indented under a key
  // (`s3 =` then `  addressing_style = …`) belong to that key, not to the profile.
  const wanted = profile === 'default' ? /^\[\s*(?:profile\s+)?default\s*\]/ : new RegExp(`^\\[\\s*profile\\s+${profile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*\\]`);
  let inProfile = false;
  for (const line of content.split(/\r?\n/)) {
    if (/^\s*[#;]/.test(line) || line.trim() === '') continue;
    if (line.startsWith('[')) {
      inProfile = wanted.test(line);
      continue;
    }
    const entry = inProfile && !/^\s/.test(line) ? /^([A-Za-z0-9_.-]+)\s*=\s*(.*?)\s*$/.exec(line) : null;
    if (entry && entry[1]!.toLowerCase() === 'region' && entry[2] !== '') return entry[2];
  }
  return undefined;
}
