#!/usr/bin/env node
// Reads a large object (default 1 GiB) into a Buffer through the native addon and reports
//  - process RSS growth (should be ~1x the object: one allocation, handed to JS without a copy)
//  - the maximum event-loop delay seen by a 1 ms timer during the transfer (the JS thread only
//    schedules the work; the bytes move on the addon's tokio threads).
// Sources: --source local (a file read through object_store's LocalFileSystem) or
//          --source http  (a minimal S3-compatible GET server in a child process on 127.0.0.1,
//                          so the bytes go through object_store's S3 client: HTTP, ranged GETs).
// Usage: node bench/native-memory.mjs [--size-mib 1024] [--source local|http]
import { fork } from 'node:child_process';
import { mkdirSync, rmSync, openSync, writeSync, closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { NativeCancelToken, NativeObjectStore } = (() => {
  const b = require('../native/binding.js');
  return { NativeCancelToken: b.CancelToken, NativeObjectStore: b.NativeObjectStore };
})();

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const sizeMiB = Number(opt('size-mib', '1024'));
const source = opt('source', 'local');
const size = sizeMiB * 1024 * 1024;
const MiB = 1024 * 1024;

if (process.argv[2] === '--serve') {
  // child: tiny S3 GET/HEAD server for one object (no auth check), path-style /bucket/key
  const { createServer } = await import('node:http');
  const { statSync, createReadStream } = await import('node:fs');
  const file = process.argv[3];
  const st = statSync(file);
  const etag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
  const server = createServer((req, res) => {
    const base = { ETag: etag, 'Last-Modified': st.mtime.toUTCString(), 'Accept-Ranges': 'bytes' };
    const m = /bytes=(\d+)-(\d*)/.exec(req.headers.range ?? '');
    let start = 0;
    let end = st.size - 1;
    if (m) {
      start = Number(m[1]);
      if (m[2]) end = Math.min(Number(m[2]), st.size - 1);
    }
    const len = end - start + 1;
    res.writeHead(m ? 206 : 200, { ...base, 'Content-Length': len, ...(m ? { 'Content-Range': `bytes ${start}-${end}/${st.size}` } : {}) });
    if (req.method === 'HEAD') return res.end();
    createReadStream(file, { start, end, highWaterMark: MiB }).pipe(res);
  });
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
} else {
  const dir = join(tmpdir(), `rs-bench-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'big.bin');
  {
    const fd = openSync(file, 'w');
    const chunk = Buffer.alloc(8 * MiB, 0x5a);
    for (let off = 0; off < size; off += chunk.length) writeSync(fd, chunk, 0, Math.min(chunk.length, size - off));
    closeSync(fd);
  }
  let child;
  let store;
  if (source === 'http') {
    child = fork(fileURLToPath(import.meta.url), ['--serve', file], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const { port } = await new Promise((r) => child.once('message', r));
    store = NativeObjectStore.s3({
      bucket: 'bench',
      endpoint: `http://127.0.0.1:${port}`,
      accessKeyId: 'bench',
      secretAccessKey: 'bench',
      region: 'us-east-1',
    });
  } else {
    store = NativeObjectStore.local(dir);
  }
  const key = 'big.bin';
  globalThis.gc?.();
  await new Promise((r) => setTimeout(r, 200));
  const rss0 = process.memoryUsage().rss;

  let maxGap = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
  }, 1);
  const hist = monitorEventLoopDelay({ resolution: 1 });
  hist.enable();
  const t0 = performance.now();
  const buf = await store.get(key, new NativeCancelToken());
  const secs = (performance.now() - t0) / 1000;
  hist.disable();
  clearInterval(timer);
  const rss1 = process.memoryUsage().rss;
  const ok = buf.length === size && buf[0] === 0x5a && buf[size - 1] === 0x5a;
  const growthMiB = (rss1 - rss0) / MiB;
  const result = {
    source,
    sizeMiB,
    ok,
    seconds: Number(secs.toFixed(3)),
    throughputMiBps: Number((sizeMiB / secs).toFixed(0)),
    rssBeforeMiB: Math.round(rss0 / MiB),
    rssAfterMiB: Math.round(rss1 / MiB),
    rssGrowthMiB: Math.round(growthMiB),
    rssGrowthPerObject: Number((growthMiB / sizeMiB).toFixed(3)),
    maxTimerGapMs: Number(maxGap.toFixed(2)),
    eventLoopDelayMaxMs: Number((hist.max / 1e6).toFixed(2)),
    eventLoopDelayP99Ms: Number((hist.percentile(99) / 1e6).toFixed(2)),
  };
  console.log(JSON.stringify(result, null, 2));
  child?.kill();
  rmSync(dir, { recursive: true, force: true });
  if (!ok) process.exitCode = 1;
}
