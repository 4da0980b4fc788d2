/**
 * The native store's options, derived from the same {@link S3Settings} as the SDK client:
 * endpoint, region, addressing style, CA bundle, retry policy, connection bound, multipart
 * tuning, and the write defaults (its HTTP layer adds them to every PutObject,
 * CreateMultipartUpload and CopyObject) and requester-pays of `client_options`. The
 * values arrive normalised; nothing here decides an option rule again. Credentials are the
 * static ones, or else the SDK client's provider (default chain, or
 * client_options.credentials), so both paths sign with the same identity.
 */
import type { NativeCredentials, NativeS3Options } from '../../native';
import type { SdkClient } from './client';
import { effectiveMultipart, NATIVE_MULTIPART_DEFAULTS } from './multipart';
import type { S3Settings } from './options';

export function nativeS3Options(settings: S3Settings, sdk: SdkClient): NativeS3Options {
  const retry = settings.retry;
  const options: NativeS3Options = {
    bucket: settings.bucket,
    region: settings.region(),
    retry: { maxAttempts: retry.maxAttempts, backoffBase: retry.backoffBase, backoffMax: retry.backoffMax, jitter: retry.jitter },
    // `timeout` bounds one whole operation, every retry included.
    ...(retry.timeout !== undefined ? { deadline: retry.timeout } : {}),
    virtualHostedStyle: !settings.pathStyle(),
    backendName: sdk.backend,
    // The native path keeps to the same bound (napi takes a u32; no server wants more).
    maxConnections: Math.min(settings.maxSockets, 65536),
    ...effectiveMultipart(settings.multipart, NATIVE_MULTIPART_DEFAULTS),
    writeDefaults: settings.clientOptions().writeDefaults,
  };
  const endpoint = settings.endpoint();
  if (endpoint) {
    options.endpoint = endpoint;
    options.allowHttp = endpoint.toLowerCase().startsWith('http://');
  }
  if (settings.caBundle) options.caCertPath = settings.caBundle;
  if (!settings.tlsVerify) options.tlsVerify = false;
  const clientOptions = settings.clientOptions();
  if (clientOptions.connectTimeout !== undefined) options.connectTimeout = clientOptions.connectTimeout;
  if (clientOptions.readTimeout !== undefined) options.readTimeout = clientOptions.readTimeout;
  if (clientOptions.requesterPays) options.requesterPays = true;
  const creds = settings.staticCredentials();
  if (clientOptions.anon) {
    options.anon = true; // unsigned requests, as on the SDK path
  } else if (creds) {
    options.accessKeyId = creds.accessKeyId;
    options.secretAccessKey = creds.secretAccessKey;
    if (creds.sessionToken) options.sessionToken = creds.sessionToken;
  } else {
    // One source of truth: the SDK client's provider (default chain, or client_options.credentials).
    options.credentials = async (): Promise<NativeCredentials> => {
      const c = await (await sdk.client()).config.credentials();
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
