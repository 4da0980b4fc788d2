/**
 * Where the S3 server is and which certificates to trust: the two option values both paths
 * (SDK and native) connect with. Kept apart from `options.ts` because `client-options.ts`
 * normalises endpoints too, and both must share one rule without importing each other.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { describe } from '../../retry';

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
export function resolveCaBundle(explicit: unknown, env: NodeJS.ProcessEnv = process.env, option = 'tls_ca_bundle'): string | undefined {
  if (explicit !== undefined && explicit !== null && typeof explicit !== 'string') {
    throw new TypeError(`s3 option '${option}' must be a path, got ${describe(explicit)}`);
  }
  const sources: Array<[string, string | undefined]> = [
    [option, explicit as string | undefined],
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
