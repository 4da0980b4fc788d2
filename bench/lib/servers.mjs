// The processes a bench run measures against, all on 127.0.0.1 inside the bench's own network
// and PID namespaces (run.sh), so they die with the run: nginx (the raw-HTTP ceiling, serving
// and storing the same bytes on tmpfs), iperf3 (the loopback TCP ceiling) and the S3 server.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { freePort, stopChild } from '../../__test__/support/s3-servers.ts';

/** Resolves once something accepts TCP connections on the port; fails when the process died. */
export async function waitForPort(port, child, what, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode} while starting`);
    const up = await new Promise((r) => {
      const s = connect(port, '127.0.0.1', () => (s.destroy(), r(true))).on('error', () => r(false));
    });
    if (up) return;
    if (Date.now() > deadline) throw new Error(`${what} did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** CPU seconds (user + system) used so far by every process whose executable is `exe`. */
export function cpuSecondsOf(exe) {
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readlinkSync(`/proc/${pid}/exe`) !== exe) continue;
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
    } catch {
      /* the process ended meanwhile */
    }
  }
  return ticks / 100; // USER_HZ is 100 on Linux
}

/**
 * nginx on 127.0.0.1 serving `root` (GET with sendfile) and storing PUT bodies there
 * (dav module: temp file on the same tmpfs, then rename — what an S3 server does, minus S3).
 */
export async function startNginx(dir) {
  const port = await freePort();
  const root = join(dir, 'www');
  mkdirSync(join(dir, 'nginx-tmp'), { recursive: true });
  mkdirSync(root, { recursive: true });
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `user root;
worker_processes auto;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  client_max_body_size 0;
  client_body_buffer_size 1m;
  client_body_temp_path ${dir}/nginx-tmp;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    dav_methods PUT DELETE;
    create_full_put_path on;
  }
}
`,
  );
  const child = spawn('nginx', ['-c', conf, '-e', join(dir, 'nginx-error.log')], { stdio: 'inherit' });
  await waitForPort(port, child, 'nginx');
  return { base: `http://127.0.0.1:${port}`, root, exe: realExe('nginx'), stop: () => child.kill() };
}

/** Loopback TCP throughput with iperf3 (one stream, then four), in Gbit/s. */
export async function iperf3(seconds) {
  const results = {};
  for (const streams of [1, 4]) {
    const port = await freePort();
    const server = spawn('iperf3', ['-s', '-1', '-B', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    // Ready once the kernel lists the socket as listening: a probe connection would upset iperf3.
    const local = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
    const listening = () =>
      readFileSync('/proc/net/tcp', 'utf8')
        .split('\n')
        .map((l) => l.trim().split(/\s+/))
        .some((f) => f[1]?.endsWith(local) && f[3] === '0A');
    while (!listening()) {
      if (server.exitCode !== null) throw new Error(`iperf3 -s exited with code ${server.exitCode}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const r = spawnSync('iperf3', ['-c', '127.0.0.1', '-p', String(port), '-t', String(seconds), '-P', String(streams), '-J'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`iperf3 failed: ${r.stderr || r.stdout}`);
    server.kill();
    results[`streams${streams}`] = JSON.parse(r.stdout).end.sum_received.bits_per_second / 1e9;
  }
  return results;
}

/** The resolved path of a command on PATH (what /proc/<pid>/exe shows). */
export function realExe(cmd) {
  const r = spawnSync('sh', ['-c', `readlink -f "$(command -v ${cmd})"`], { encoding: 'utf8' });
  return r.stdout.trim();
}

// ---- S3 servers built with `go install` by run.sh (Go modules, from the Go module proxy) ----

const BENCH_BIN = process.env.REMOTE_STORE_BENCH_BIN || join(homedir(), '.cache', 'remote-store', 'bench-bin');
export const VERSITYGW_BIN = join(BENCH_BIN, 'versitygw');
export const MINIO_BIN = join(BENCH_BIN, 'minio');

/** The module version `go install` built, from the binary's build info. */
export function goModuleVersion(bin) {
  const info = spawnSync('go', ['version', '-m', bin], { encoding: 'utf8' }).stdout ?? '';
  return /\bmod\s+\S+\s+(v[\w.-]+)/.exec(info)?.[1] ?? '?';
}

async function startServerProcess(name, bin, args, env, dataDir, ready) {
  const port = await freePort();
  const accessKey = 'bench-key';
  const secretKey = randomBytes(16).toString('hex');
  const child = spawn(bin, args({ port, accessKey, secretKey }), { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...env({ accessKey, secretKey }) } });
  await waitForPort(port, child, name);
  const endpoint = `http://127.0.0.1:${port}`;
  await ready?.(endpoint, child);
  // stop() waits for the exit: a server still writing while its data directory is removed
  // failed the removal (ENOTEMPTY) and left gigabytes on tmpfs.
  return { endpoint, accessKey, secretKey, region: 'us-east-1', root: dataDir, exe: bin, version: goModuleVersion(bin), stop: () => stopChild(child) };
}

/** versitygw (Versity S3 Gateway) over a POSIX directory. */
export function startVersitygw(dir) {
  const root = join(dir, 'versitygw');
  mkdirSync(root, { recursive: true });
  // --keep-alive: it closes every connection after one answer otherwise (a TCP handshake per
  // request, unlike S3). --quiet: no request log on stdout (a write per request).
  return startServerProcess(
    'versitygw',
    VERSITYGW_BIN,
    ({ port, accessKey, secretKey }) => ['--access', accessKey, '--secret', secretKey, '--port', `127.0.0.1:${port}`, '--keep-alive', '--quiet', 'posix', root],
    () => ({}),
    root,
  );
}

/**
 * MinIO keeps the data of overwritten and deleted objects in its trash and purges it minutes
 * later; on tmpfs, rounds of 1 GiB PUTs fill the machine's memory first. Empty it between cells.
 */
export function emptyMinioTrash(dir) {
  // MinIO moves deleted objects into the trash in the background, so entries can appear while
  // this removes it (ENOTEMPTY, which ended a run): retry, and leave a remainder to the next cell.
  try {
    rmSync(join(dir, 'minio', '.minio.sys', 'tmp', '.trash'), { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
  } catch (err) {
    if (err.code !== 'ENOTEMPTY') throw err;
  }
}

/** MinIO, single drive (the tmpfs directory). */
export function startMinio(dir) {
  const root = join(dir, 'minio');
  mkdirSync(root, { recursive: true });
  return startServerProcess(
    'minio',
    MINIO_BIN,
    ({ port }) => ['server', root, '--quiet', '--address', `127.0.0.1:${port}`, '--console-address', '127.0.0.1:0'],
    ({ accessKey, secretKey }) => ({ MINIO_ROOT_USER: accessKey, MINIO_ROOT_PASSWORD: secretKey, MINIO_BROWSER: 'off', MINIO_UPDATE: 'off' }),
    root,
    // It listens before its drive is formatted: wait for the readiness probe.
    async (endpoint, child) => {
      for (let i = 0; i < 300; i++) {
        if (child.exitCode !== null) throw new Error(`minio exited with code ${child.exitCode} while starting`);
        const ok = await fetch(`${endpoint}/minio/health/ready`).then((r) => r.ok, () => false);
        if (ok) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('minio did not become ready within 30 s');
    },
  );
}
