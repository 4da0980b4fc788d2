#!/usr/bin/env node
// The benchmark run (issues 7, 14, 17). Started by run.sh inside network and PID namespaces of
// its own; by hand:  node --import tsx bench/run.mjs [--quick] [--rounds N] [--only ids|issue14]
//                   [--peers ids] [--server versitygw|minio|s3s-fs] [--servers a,b] [--out dir]
//
// Ceilings first (iperf3 over loopback; nginx serving and storing the same bytes on tmpfs,
// read by a raw keep-alive client; the S3 server read by that client through presigned
// URLs), then every workload: each round runs every peer once, in a rotated order so that
// machine noise spreads over the peers, each cell in a process of its own.
import { spawn, spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, createReadStream, existsSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { constants, cpus, loadavg, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, DeleteObjectsCommand, PutObjectCommand, S3Client, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { S3S_FS_BIN, startS3sFs } from '../__test__/support/s3-servers.ts';
import { PEERS } from './lib/peers.mjs';
import { median, writeReport } from './lib/report.mjs';
import { cpuSecondsOf, emptyMinioTrash, iperf3, realExe, startMinio, startNginx, startVersitygw } from './lib/servers.mjs';
import { datasetWorkloads, fixtures, parquetWorkloads, settings, sourceFile, workloads, BOTH_SERVERS, DATASET_PREFIX, MiB, PARQUET_KEY } from './lib/workloads.mjs';

// run.sh makes this process PID 1 of its namespace, which ignores signals it has no handler
// for: exit on them, and the kernel ends every server of the namespace with it.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => process.exit(128 + constants.signals[sig]));

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
const VENV_PYTHON = join(BENCH, '.work', 'venv', 'bin', 'python');
const WORK = '/dev/shm/rs-bench'; // tmpfs: the S3 server's data, nginx's root, the PUT sources
const BUCKET = 'bench';

const { values: opt } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    only: { type: 'string' },
    peers: { type: 'string' },
    out: { type: 'string' },
    server: { type: 'string' },
    servers: { type: 'string' },
  },
});
const s = settings(opt.quick);
if (opt.rounds) s.rounds = Number(opt.rounds);
const outDir = opt.out ?? (opt.quick ? join(BENCH, '.work', 'quick') : BENCH);
const started = Date.now();
const log = (msg) => console.error(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${msg}`);
const pick = (list, filter) => (filter ? list.filter((x) => filter.split(',').includes(x.id)) : list);
// --only takes workload ids and the tag `issue14` (every row an issue-14 target reads).
const pickWorkloads = (list, filter) => (filter ? list.filter((w) => filter.split(',').some((f) => f === w.id || (f === 'issue14' && w.issue14))) : list);

// ---- set-up ------------------------------------------------------------------------------

rmSync(WORK, { recursive: true, force: true });
mkdirSync(join(WORK, 'src'), { recursive: true });
const load0 = loadavg();

/** Incompressible source files, one per size (an 8 MiB random block repeated). */
function makeSources(sizes) {
  const block = randomFillSync(Buffer.alloc(8 * MiB));
  for (const size of sizes) {
    const fd = openSync(sourceFile(WORK, size), 'w');
    for (let off = 0; off < size; off += block.length) writeSync(fd, block, 0, Math.min(block.length, size - off));
    closeSync(fd);
  }
}
const fx = fixtures(s);
makeSources(fx.objects.map((o) => o.size));

const version = (cmd, args, re = /([\d.]+)/) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return (re.exec(`${r.stdout}${r.stderr}`) ?? [])[1] ?? '?';
};
process.env.TMPDIR = WORK; // the test harness puts s3s-fs's data directory there
const SERVERS = {
  's3s-fs': async () => ({ ...(await startS3sFs()), exe: realExe(S3S_FS_BIN), version: version(S3S_FS_BIN, ['--version'], /s3s-fs ([\d.]+)/) }),
  versitygw: () => startVersitygw(WORK),
  minio: () => startMinio(WORK),
};
if (opt.server && !SERVERS[opt.server]) throw new Error(`--server must be one of ${Object.keys(SERVERS).join(', ')}`);
const peerList = pick(PEERS, opt.peers);
// Listing and copy have no raw-client row to choose by: they use this one (or --server).
const DEFAULT_SERVER = opt.server ?? 'versitygw';
// The rows judged against the raw SDK (`both`) run on each of these; --server makes it one.
const bothServers = opt.server ? [opt.server] : (opt.servers?.split(',') ?? BOTH_SERVERS);
for (const kind of bothServers) if (!SERVERS[kind]) throw new Error(`--servers: unknown server '${kind}'`);
const all = workloads(s, WORK);
const needBoth = pickWorkloads(all, opt.only).some((w) => w.both);
const servers = {};
for (const kind of new Set([DEFAULT_SERVER, ...(needBoth ? bothServers : []), ...peerList.map((p) => p.server).filter(Boolean)])) {
  const srv = await SERVERS[kind]();
  srv.admin = new S3Client({
    endpoint: srv.endpoint,
    region: srv.region,
    forcePathStyle: true,
    credentials: { accessKeyId: srv.accessKey, secretAccessKey: srv.secretKey },
  });
  await srv.admin.send(new CreateBucketCommand({ Bucket: BUCKET }));
  servers[kind] = srv;
  log(`${kind} at ${srv.endpoint} (data in ${srv.root})`);
}
const nginx = await startNginx(WORK);
log(`nginx at ${nginx.base} (root ${nginx.root})`);

/** Runs `fn` over `items`, `limit` at a time. */
async function eachLimit(items, limit, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

log('uploading fixtures');
for (const [kind, srv] of Object.entries(servers)) {
  for (const { key, size } of fx.objects) {
    await new Upload({ client: srv.admin, params: { Bucket: BUCKET, Key: key, Body: createReadStream(sourceFile(WORK, size)) } }).done();
  }
  for (const { prefix, count, size } of fx.small.filter((f) => !f.peersOnly || kind === DEFAULT_SERVER)) {
    const body = Buffer.alloc(size, 0x61);
    const t0 = Date.now();
    await eachLimit(Array.from({ length: count }, (_, i) => `${prefix}${i}`), 64, (key) =>
      srv.admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body })),
    );
    log(`  ${kind}: ${count} objects under ${prefix} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
}
for (const { key, size } of fx.objects) {
  mkdirSync(dirname(join(nginx.root, BUCKET, key)), { recursive: true });
  linkSync(sourceFile(WORK, size), join(nginx.root, BUCKET, key));
}
for (const { prefix, count, size } of fx.small.filter((f) => !f.peersOnly)) {
  mkdirSync(join(nginx.root, BUCKET, prefix), { recursive: true });
  for (let i = 0; i < count; i++) writeFileSync(join(nginx.root, BUCKET, `${prefix}${i}`), Buffer.alloc(size, 0x61));
}

// The Parquet file: generated with pyarrow on tmpfs, uploaded to the default server.
if (!opt.only || opt.only.split(',').some((id) => id.startsWith('pq-'))) {
  const file = join(WORK, 'src', 'data.parquet');
  const t0 = Date.now();
  const gen = spawnSync(VENV_PYTHON, [join(BENCH, 'parquet', 'generate.py'), file, '--min-bytes', String(s.parquet.minBytes), '--row-group', String(s.parquet.rowGroup)], { stdio: 'inherit' });
  if (gen.status !== 0) throw new Error('parquet/generate.py failed');
  const pq = { ...JSON.parse(readFileSync(`${file}.json`, 'utf8')), bytes: statSync(file).size };
  const srv = servers[DEFAULT_SERVER];
  await new Upload({ client: srv.admin, params: { Bucket: BUCKET, Key: PARQUET_KEY, Body: createReadStream(file) } }).done();
  log(`Parquet file: ${pq.rows} rows in ${pq.rowGroups} row groups, ${(pq.bytes / MiB).toFixed(0)} MiB (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  all.push(...parquetWorkloads(pq));
}

// The dataset: generated with pyarrow on tmpfs (100 files: 10 hive partitions of 10), uploaded to the default server.
if (!opt.only || opt.only.split(',').some((id) => id.startsWith('ds-'))) {
  const dir = join(WORK, 'src', DATASET_PREFIX);
  const t0 = Date.now();
  const gen = spawnSync(VENV_PYTHON, [join(BENCH, 'parquet', 'generate.py'), dir, '--dataset', '--partitions', '10', '--files', '10', '--rows', String(s.dataset.rowsPerFile)], { stdio: 'inherit' });
  if (gen.status !== 0) throw new Error('parquet/generate.py --dataset failed');
  const ds = JSON.parse(readFileSync(`${dir}.json`, 'utf8'));
  const srv = servers[DEFAULT_SERVER];
  let bytes = 0;
  await eachLimit(ds.files, 16, async (f) => {
    const body = readFileSync(join(dir, f.path));
    bytes += body.length;
    await srv.admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${DATASET_PREFIX}/${f.path}`, Body: body }));
  });
  log(`dataset: ${ds.files.length} files, ${(bytes / MiB).toFixed(0)} MiB (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  all.push(...datasetWorkloads(ds));
}

/** Deletes every object under `prefix` on the S3 servers and nginx's copies. */
async function deletePrefix(prefix) {
  for (const { admin } of Object.values(servers)) {
    for await (const page of paginateListObjectsV2({ client: admin }, { Bucket: BUCKET, Prefix: prefix })) {
      const Objects = (page.Contents ?? []).map((o) => ({ Key: o.Key }));
      if (Objects.length) await admin.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects } }));
    }
  }
  rmSync(join(nginx.root, BUCKET, prefix), { recursive: true, force: true });
}

// ---- ceilings ----------------------------------------------------------------------------

log('iperf3 over loopback');
const tcp = await iperf3(opt.quick ? 2 : 5);
log(`  ${tcp.streams1.toFixed(1)} Gbit/s (1 stream), ${tcp.streams4.toFixed(1)} Gbit/s (4 streams)`);

// ---- cells -------------------------------------------------------------------------------

/** Runs one cell in a child process; resolves with its measurements or {ok: false, error}. */
function runCell(peer, cell) {
  const [cmd, args] = peer.python
    ? [VENV_PYTHON, [join(BENCH, 'peers', `${peer.python}.py`)]]
    : [process.execPath, ['--expose-gc', join(BENCH, 'cell.mjs')]];
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err = (err + d).slice(-4000)));
    child.stdin.end(JSON.stringify(cell));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20 * 60_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop();
      try {
        resolve(JSON.parse(line));
      } catch {
        resolve({ ok: false, error: `exit ${code ?? signal}: ${err.trim() || out.trim()}` });
      }
    });
  });
}

const results = { workloads: [] };

/** Runs `peers` for every round, the order rotated each round, against the server `kind`. */
async function runRounds(w, entry, peers, kind) {
  for (let round = 0; round < s.rounds; round++) {
    const order = peers.map((_, i) => peers[(i + round) % peers.length]);
    for (const peer of order) {
      const plan = w.plan(peer.id);
      const srv = servers[peer.server ?? kind ?? DEFAULT_SERVER]; // nginx's raw client needs none
      const target = { endpoint: srv.endpoint, bucket: BUCKET, accessKey: srv.accessKey, secretKey: srv.secretKey, region: srv.region, httpBase: nginx.base };
      const cell = { peer: { name: peer.name, module: peer.module, options: peer.options ?? {} }, target, concurrency: w.concurrency ?? 1, ...plan };
      const exe = peer.ceiling === 'http' ? nginx.exe : srv.exe;
      const cpu0 = cpuSecondsOf(exe);
      const r = await runCell(peer, cell);
      r.serverCpuSeconds = cpuSecondsOf(exe) - cpu0;
      r.entries = plan.measured.length;
      (entry.cells[peer.id] ??= []).push(r);
      if (w.cleanup) await deletePrefix(w.cleanup(peer.id));
      emptyMinioTrash(WORK);
      log(`${w.id} r${round + 1} ${peer.id}${peer.ceiling ? '' : ` @${kind}`}: ${r.ok ? `${(median(r.times) * 1000).toFixed(2)} ms/op` : `FAILED ${r.error.split('\n')[0]}`}`);
    }
  }
}

/** A fresh results entry of workload `w` whose peers ran on `server`. */
const entryOf = (w, server, cells = {}) => ({
  id: w.id,
  title: w.title,
  group: w.group,
  metric: w.metric,
  bytes: w.bytes,
  ops: w.ops,
  raw: w.raw,
  both: w.both,
  parquet: w.parquet,
  selectedBytes: w.selectedBytes,
  without: w.without,
  server,
  cells,
});

for (const w of pickWorkloads(all, opt.only)) {
  const peers = peerList.filter((p) => Boolean(p.parquet) === Boolean(w.parquet) && (w.peers ? w.peers.includes(p.id) : !p.datasetsOnly) && !w.without?.[p.id]);
  // The raw client first, once, against every server (the ceilings).
  const rawCells = {};
  const raw = w.raw ? peers.filter((p) => p.ceiling) : [];
  await runRounds(w, { cells: rawCells }, raw);
  const rest = peers.filter((p) => !p.ceiling || (w.parquet && !p.server));
  if (w.both) {
    // Judged against the raw SDK on each of these servers: one entry (a row of the report) per
    // server, every peer on each, no fallback (a refusal is that server's result); the raw
    // rows are shared, so each entry has its own server's ceiling.
    for (const kind of bothServers) {
      const entry = entryOf(w, kind, { ...rawCells });
      results.workloads.push(entry);
      await runRounds(w, entry, rest, kind);
    }
    continue;
  }
  // Otherwise the peers run against the S3 server that the raw client found fastest for this
  // workload (unless --server fixes one): no peer is held back by a server that is slow at
  // this particular thing.
  const ranking = raw
    .filter((p) => p.server && !p.recordOnly && rawCells[p.id].every((r) => r.ok))
    .map((p) => ({ kind: p.server, time: median(rawCells[p.id].map((r) => median(r.times))) }))
    .sort((a, b) => a.time - b.time)
    .map((x) => x.kind);
  const candidates = opt.server ? [opt.server] : ranking.length ? ranking : [DEFAULT_SERVER];
  const entry = entryOf(w, candidates[0], rawCells);
  results.workloads.push(entry);
  // A Parquet ceiling (the raw client fetching just the selected chunks) runs with the peers, on their server.
  await runRounds(w, entry, rest, entry.server);
  // A peer that this server refuses in every round runs on the next server that works for it
  // (results.md says so and why): one incompatibility should not leave a row empty.
  for (const peer of peers.filter((p) => !p.ceiling && entry.cells[p.id]?.every((r) => !r.ok))) {
    const refused = entry.cells[peer.id];
    for (const alt of candidates.slice(1)) {
      delete entry.cells[peer.id];
      await runRounds(w, entry, [peer], alt);
      if (entry.cells[peer.id].some((r) => r.ok)) {
        (entry.fallbacks ??= {})[peer.id] = { server: alt, error: refused[0].error.trim().split('\n').pop() };
        break;
      }
    }
    if (!entry.fallbacks?.[peer.id]) entry.cells[peer.id] = refused;
  }
}

// ---- report ------------------------------------------------------------------------------

const npmVersion = (pkg, from = BENCH) => JSON.parse(readFileSync(join(from, 'node_modules', pkg, 'package.json'), 'utf8')).version;
const pyVersions = existsSync(VENV_PYTHON)
  ? JSON.parse(
      spawnSync(VENV_PYTHON, ['-c', 'import json, importlib.metadata as m; print(json.dumps({p: m.version(p) for p in ["remote-store", "s3fs", "pyarrow", "botocore"]}))'], { encoding: 'utf8' }).stdout || '{}',
    )
  : {};
results.meta = {
  date: new Date().toISOString(),
  quick: opt.quick,
  rounds: s.rounds,
  durationSeconds: Math.round((Date.now() - started) / 1000),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), kernel: release(), loadBefore: load0, loadAfter: loadavg() },
  git: spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim(),
  versions: {
    node: process.versions.node,
    python: version(VENV_PYTHON, ['--version']),
    ...Object.fromEntries(Object.entries(servers).map(([kind, srv]) => [kind, srv.version])),
    nginx: version('nginx', ['-v']),
    iperf3: version('iperf3', ['--version']),
    '@aws-sdk/client-s3': npmVersion('@aws-sdk/client-s3'),
    '@aws-sdk/lib-storage': npmVersion('@aws-sdk/lib-storage'),
    opendal: npmVersion('opendal'),
    'nodejs-polars': npmVersion('nodejs-polars'),
    'parquet-wasm': npmVersion('parquet-wasm'),
    hyparquet: npmVersion('hyparquet'),
    'duckdb (PyPI)': version(VENV_PYTHON, ['-c', 'import duckdb; print(duckdb.__version__)']),
    'remote-store (ours)': JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version,
    '@aws-sdk/client-s3 (ours)': npmVersion('@aws-sdk/client-s3', ROOT),
    ...Object.fromEntries(Object.entries(pyVersions).map(([k, v]) => [`${k} (PyPI)`, v])),
  },
  server: opt.server ?? 'the fastest per workload',
  bothServers,
  peers: PEERS.map(({ id, name, ceiling, ours, native, server, parquet }) => ({ id, name, ceiling, ours, native, server, parquet })),
  ceilings: { tcpGbps: tcp },
  workDir: WORK,
};
mkdirSync(join(BENCH, '.work'), { recursive: true });
writeFileSync(join(BENCH, '.work', opt.quick ? 'results-quick.json' : 'results.json'), JSON.stringify(results, null, 1));
const files = writeReport(results, outDir);
log(`wrote ${files.join(', ')}`);

nginx.stop();
for (const srv of Object.values(servers)) {
  srv.admin.destroy();
  await srv.stop();
}
rmSync(WORK, { recursive: true, force: true });
// A peer waiting for its implementation (the Parquet slot) is reported, not failed.
const failed = results.workloads.flatMap((w) => Object.values(w.cells).flat()).filter((r) => !r.ok && !/\bpending: /.test(r.error)).length;
if (failed) log(`${failed} cell(s) failed: see the report`);
process.exit(failed ? 1 : 0);
