/**
 * Real S3 servers for the test suite.
 *
 * - `s3s-fs` (Rust, checks SigV4 and checksums; stores keys as files, so `a` and `a/b`
 *   cannot both exist) — the default server.
 * - moto server (Python, in-memory, a true flat namespace) — for the flat-namespace cases
 *   and for ListMultipartUploads (s3s-fs does not implement it).
 * - versitygw (Go, an S3 gateway over a POSIX directory) — the server whose conditional
 *   writes are atomic: create-only races are judged on it (s3s-fs and moto check
 *   `If-None-Match` and then write, so two racing writers can both win there).
 *
 * Each ava spec file runs in its own process, so each file starts its own servers
 * (s3s-fs starts in ~50 ms, moto in ~1–2 s). A runner may instead start servers once and
 * share them through env vars: `REMOTE_STORE_S3S_ENDPOINT` / `REMOTE_STORE_MOTO_ENDPOINT`
 * (with `REMOTE_STORE_S3_KEY` / `REMOTE_STORE_S3_SECRET`, default `test-key`/`test-secret`).
 *
 * Binaries come from `scripts/install-s3-servers.sh` (cache root `$REMOTE_STORE_CACHE`,
 * default `~/.cache/remote-store`); override with `S3S_FS_BIN` / `MOTO_SERVER_BIN`.
 * When a server is missing the installer is run once; when it still cannot be installed
 * or started, the suite FAILS with a clear message — it never skips.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer, connect as netConnect, type AddressInfo, type Server } from 'node:net';
import { tmpdir, homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { request as httpRequest } from 'node:http';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { SECRET_SENTINEL } from './sentinel';

export type ServerKind = 's3s-fs' | 'moto' | 'versitygw';

export interface S3Server {
  kind: ServerKind;
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  accessKey: string;
  secretKey: string;
  region: string;
  /** s3s-fs and versitygw, when started here: its data directory (s3s-fs keeps uploads in progress there as `.upload*` files). */
  root?: string;
  /**
   * s3s-fs only, when started here: kills the server with SIGKILL, as a crash would (its
   * connections drop mid-answer, its port refuses); the data directory stays.
   */
  kill?(): Promise<void>;
  /** s3s-fs only, when started here: starts it again on the same port and data directory (killing it first if it runs). */
  restart?(): Promise<void>;
  /** Stops the server (no-op for servers shared through env vars). Idempotent. */
  stop(): Promise<void>;
}

export interface TlsProxy {
  /** `https://127.0.0.1:<port>` */
  endpoint: string;
  /** Path of the PEM file holding the self-signed CA/server certificate. */
  caFile: string;
  stop(): Promise<void>;
}

const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
const CACHE = process.env.REMOTE_STORE_CACHE || join(homedir(), '.cache', 'remote-store');
const INSTALLER = join(REPO_ROOT, 'scripts', 'install-s3-servers.sh');
export const S3S_FS_BIN = process.env.S3S_FS_BIN || join(CACHE, 'bin', 's3s-fs');
export const MOTO_SERVER_BIN = process.env.MOTO_SERVER_BIN || join(CACHE, 'moto-venv', 'bin', 'moto_server');
export const VERSITYGW_BIN = process.env.VERSITYGW_BIN || join(CACHE, 'bench-bin', 'versitygw');

const DEFAULT_KEY = process.env.REMOTE_STORE_S3_KEY || 'test-key';
const DEFAULT_SECRET = process.env.REMOTE_STORE_S3_SECRET || `${SECRET_SENTINEL}-test-secret`;
const REGION = 'us-east-1';

// ---- child-process hygiene: every server we start dies with this process ----------------

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  const killAll = () => {
    for (const child of children) {
      try {
        child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
    for (const dir of tempDirs) {
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        /* best effort */
      }
    }
  };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAll();
      process.kill(process.pid, sig);
    });
  }
}

/**
 * Spawns `bin args…` under a tiny shell watchdog that kills the server when this Node
 * process disappears without running its exit hooks (SIGKILL, OOM): nothing is orphaned.
 */
function spawnGuarded(bin: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  installExitHooks();
  // USR1 kills the server with SIGKILL (a crash, for restart tests) and reaps it, so the port is free at once.
  const watchdog =
    '"$@" & c=$!; trap \'kill $c 2>/dev/null; exit 0\' TERM INT HUP; trap \'kill -KILL $c 2>/dev/null; wait $c; exit 0\' USR1; ' +
    'while kill -0 "$WATCH_PID" 2>/dev/null && kill -0 $c 2>/dev/null; do sleep 1 & wait $!; done; ' +
    'kill $c 2>/dev/null; wait $c';
  const child = spawn('/bin/sh', ['-c', watchdog, 'watchdog', bin, ...args], {
    env: { ...process.env, ...env, WATCH_PID: String(process.pid) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Signals `child` and waits until it has exited (SIGKILL after 3 s). */
export async function stopChild(child: ChildProcess, signal: 'SIGTERM' | 'SIGUSR1' = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

// ---- installation ---------------------------------------------------------------------------

let installAttempted = false;

function ensureInstalled(bin: string, what: string): void {
  if (existsSync(bin)) return;
  if (!installAttempted) {
    installAttempted = true;
    const r = spawnSync('bash', [INSTALLER], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 30 * 60_000 });
    if (r.status === 0 && existsSync(bin)) return;
  }
  throw new Error(
    `S3 test server ${what} is not installed at ${bin} and could not be installed. ` +
      `Run \`bash scripts/install-s3-servers.sh\` (needs cargo for s3s-fs and python3 for moto) and look at its output. ` +
      `The S3 tests never skip.`,
  );
}

// ---- ports and readiness -------------------------------------------------------------------

export async function freePort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((r, j) => srv.once('error', j).listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function probe(port: number): Promise<boolean> {
  return new Promise((resolveProbe) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/', method: 'GET', timeout: 1000 }, (res) => {
      res.resume();
      resolveProbe(true);
    });
    req.on('error', () => resolveProbe(false));
    req.on('timeout', () => {
      req.destroy();
      resolveProbe(false);
    });
    req.end();
  });
}

async function waitReady(child: ChildProcess, port: number, what: string, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${what} exited during start-up (code ${child.exitCode}, signal ${child.signalCode}). Output:\n${output()}`);
    }
    if (await probe(port)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not answer on 127.0.0.1:${port} within ${timeoutMs} ms. Output:\n${output()}`);
}

function collectOutput(child: ChildProcess): () => string {
  let buf = '';
  const add = (d: Buffer) => {
    buf += d.toString();
    if (buf.length > 20_000) buf = buf.slice(-20_000);
  };
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  return () => buf;
}

// ---- the servers ---------------------------------------------------------------------------

function sharedServer(kind: ServerKind): S3Server | undefined {
  const endpoint = process.env[kind === 's3s-fs' ? 'REMOTE_STORE_S3S_ENDPOINT' : 'REMOTE_STORE_MOTO_ENDPOINT'];
  if (!endpoint) return undefined;
  return { kind, endpoint, accessKey: DEFAULT_KEY, secretKey: DEFAULT_SECRET, region: REGION, stop: async () => {} };
}

async function startWithRetries(start: () => Promise<S3Server>): Promise<S3Server> {
  let last: unknown;
  for (let i = 0; i < 3; i++) {
    try {
      return await start();
    } catch (err) {
      last = err; // most likely a port taken between freePort() and bind: try another
    }
  }
  throw last;
}

/** Starts s3s-fs on 127.0.0.1, a random port and a fresh temp directory, with SigV4 auth on. */
export async function startS3sFs(): Promise<S3Server> {
  const shared = sharedServer('s3s-fs');
  if (shared) return shared;
  ensureInstalled(S3S_FS_BIN, 's3s-fs');
  return startWithRetries(async () => {
    const root = mkdtempSync(join(tmpdir(), 'rs-s3s-'));
    tempDirs.add(root);
    const port = await freePort();
    const accessKey = `AK${randomBytes(8).toString('hex').toUpperCase()}`;
    const secretKey = `${SECRET_SENTINEL}${randomBytes(12).toString('hex')}`;
    const args = ['--host', '127.0.0.1', '--port', String(port), '--access-key', accessKey, '--secret-key', secretKey, root];
    const launch = async (): Promise<ChildProcess> => {
      const started = spawnGuarded(S3S_FS_BIN, args, { RUST_LOG: process.env.RUST_LOG ?? 'warn' });
      try {
        await waitReady(started, port, `s3s-fs (${S3S_FS_BIN})`, collectOutput(started), 15_000);
      } catch (err) {
        await stopChild(started);
        throw err;
      }
      return started;
    };
    const removeRoot = () => {
      rmSync(root, { recursive: true, force: true });
      tempDirs.delete(root);
    };
    let child: ChildProcess;
    try {
      child = await launch();
    } catch (err) {
      removeRoot();
      throw err;
    }
    let stopped: Promise<void> | undefined;
    const kill = () => stopChild(child, 'SIGUSR1');
    return {
      kind: 's3s-fs',
      endpoint: `http://127.0.0.1:${port}`,
      root,
      accessKey,
      secretKey,
      region: REGION,
      kill,
      restart: async () => {
        if (stopped) throw new Error('s3s-fs was stopped; it cannot be restarted');
        await kill();
        // Same port: clients keep their endpoint. Nothing else binds it meanwhile in practice
        // (ports are handed out from the ephemeral range at random); if something did, this fails loudly.
        child = await launch();
      },
      stop: () => (stopped ??= stopChild(child).then(removeRoot)),
    };
  });
}

/** Starts moto server on 127.0.0.1 and a random port (in-memory; moto accepts any keys). */
export async function startMoto(): Promise<S3Server> {
  const shared = sharedServer('moto');
  if (shared) return shared;
  ensureInstalled(MOTO_SERVER_BIN, 'moto server');
  return startWithRetries(async () => {
    const port = await freePort();
    const child = spawnGuarded(MOTO_SERVER_BIN, ['-H', '127.0.0.1', '-p', String(port)], {
      // moto reads these for its default account/region
      AWS_DEFAULT_REGION: REGION,
    });
    const output = collectOutput(child);
    try {
      await waitReady(child, port, `moto server (${MOTO_SERVER_BIN})`, output, 60_000);
    } catch (err) {
      await stopChild(child);
      throw err;
    }
    let stopped: Promise<void> | undefined;
    return {
      kind: 'moto',
      endpoint: `http://127.0.0.1:${port}`,
      accessKey: DEFAULT_KEY,
      secretKey: DEFAULT_SECRET,
      region: REGION,
      stop: () => (stopped ??= stopChild(child)),
    };
  });
}

/** Starts versitygw (posix backend) on 127.0.0.1, a random port and a fresh temp directory. */
export async function startVersitygw(): Promise<S3Server> {
  ensureInstalled(VERSITYGW_BIN, 'versitygw');
  return startWithRetries(async () => {
    const root = mkdtempSync(join(tmpdir(), 'rs-vgw-'));
    tempDirs.add(root);
    const port = await freePort();
    const accessKey = `AK${randomBytes(8).toString('hex').toUpperCase()}`;
    const secretKey = `${SECRET_SENTINEL}${randomBytes(12).toString('hex')}`;
    const child = spawnGuarded(VERSITYGW_BIN, ['--access', accessKey, '--secret', secretKey, '--port', `127.0.0.1:${port}`, '--keep-alive', '--quiet', 'posix', root], {});
    const removeRoot = () => {
      rmSync(root, { recursive: true, force: true });
      tempDirs.delete(root);
    };
    try {
      await waitReady(child, port, `versitygw (${VERSITYGW_BIN})`, collectOutput(child), 30_000);
    } catch (err) {
      await stopChild(child);
      removeRoot();
      throw err;
    }
    let stopped: Promise<void> | undefined;
    return {
      kind: 'versitygw',
      endpoint: `http://127.0.0.1:${port}`,
      root,
      accessKey,
      secretKey,
      region: REGION,
      stop: () => (stopped ??= stopChild(child).then(removeRoot)),
    };
  });
}

export function startServer(kind: ServerKind): Promise<S3Server> {
  if (kind === 'versitygw') return startVersitygw();
  return kind === 's3s-fs' ? startS3sFs() : startMoto();
}

/** A plain SDK client for the harness itself (bucket set-up, out-of-band checks). */
export function adminClient(server: S3Server, endpoint = server.endpoint, extra: Record<string, unknown> = {}): S3Client {
  return new S3Client({
    endpoint,
    region: server.region,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKey, secretAccessKey: server.secretKey },
    ...extra,
  });
}

let bucketCounter = 0;

/** Creates a fresh, uniquely named bucket and returns its name. */
export async function createBucket(server: S3Server, prefix = 'rs-test'): Promise<string> {
  const name = `${prefix}-${process.pid}-${Date.now().toString(36)}-${bucketCounter++}`.toLowerCase().slice(0, 63);
  const client = adminClient(server);
  try {
    await client.send(new CreateBucketCommand({ Bucket: name }));
  } finally {
    client.destroy();
  }
  return name;
}

// ---- TLS ----------------------------------------------------------------------------------

/** A self-signed certificate for 127.0.0.1/localhost, made with openssl. */
/**
 * A test CA and a server certificate it signed (SAN 127.0.0.1, localhost). A chain rather
 * than one self-signed certificate: rustls (the native data path) refuses a CA certificate
 * used as the server's own (CaUsedAsEndEntity), as real deployments never do that.
 */
export function makeSelfSignedCert(dir: string): { keyFile: string; certFile: string; caFile: string } {
  const caKey = join(dir, 'ca-key.pem');
  const caFile = join(dir, 'ca.pem');
  const keyFile = join(dir, 'key.pem');
  const csrFile = join(dir, 'server.csr');
  const certFile = join(dir, 'cert.pem');
  const extFile = join(dir, 'server.ext');
  writeFileSync(extFile, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n');
  const steps: string[][] = [
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2', '-keyout', caKey, '-out', caFile,
      '-subj', '/CN=remote-store test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    ['req', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-keyout', keyFile, '-out', csrFile, '-subj', '/CN=127.0.0.1'],
    ['x509', '-req', '-in', csrFile, '-CA', caFile, '-CAkey', caKey, '-CAcreateserial', '-days', '2', '-sha256', '-extfile', extFile, '-out', certFile],
  ];
  for (const args of steps) {
    const r = spawnSync('openssl', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl could not make a test certificate: ${r.error ?? r.stderr}`);
  }
  return { keyFile, certFile, caFile };
}

/**
 * Puts an S3 server behind TLS: a Node TLS-terminating TCP proxy on 127.0.0.1 with a
 * self-signed certificate, forwarding plain TCP to `server` (s3s-fs does not do TLS).
 * SigV4 signs the Host header (`127.0.0.1:<proxy port>`), which the proxy passes through
 * unchanged, so signatures still verify.
 */
export async function startTlsProxy(server: S3Server): Promise<TlsProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'rs-tls-'));
  tempDirs.add(dir);
  installExitHooks();
  const { keyFile, certFile, caFile } = makeSelfSignedCert(dir);
  const target = new URL(server.endpoint);
  const sockets = new Set<import('node:net').Socket>();
  const proxy: Server = createTlsServer({ key: readFileSync(keyFile), cert: readFileSync(certFile) }, (tlsSocket) => {
    const upstream = netConnect(Number(target.port), target.hostname);
    sockets.add(tlsSocket).add(upstream);
    const drop = () => {
      tlsSocket.destroy();
      upstream.destroy();
      sockets.delete(tlsSocket);
      sockets.delete(upstream);
    };
    tlsSocket.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    tlsSocket.pipe(upstream).pipe(tlsSocket);
  });
  proxy.on('tlsClientError', () => {
    /* a client refusing our certificate is exactly what one test expects */
  });
  await new Promise<void>((r, j) => proxy.once('error', j).listen(0, '127.0.0.1', () => r()));
  const { port } = proxy.address() as AddressInfo;
  let stopped: Promise<void> | undefined;
  return {
    endpoint: `https://127.0.0.1:${port}`,
    caFile,
    stop: () =>
      (stopped ??= new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        proxy.close(() => r());
      }).then(() => {
        rmSync(dir, { recursive: true, force: true });
        tempDirs.delete(dir);
      })),
  };
}

/** Writes `content` to a fresh temp file (for CA-bundle validation tests). */
export function tempFile(name: string, content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'rs-file-'));
  tempDirs.add(dir);
  const file = join(dir, name);
  writeFileSync(file, content);
  return file;
}
