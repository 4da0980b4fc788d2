#!/usr/bin/env node
// Streams a large body (default 1 GiB, 1 MiB chunks) through the native streaming upload into
// a local directory and reports the peak RSS growth during the upload (bounded memory: about
// (concurrency + 1) x part size, not the body size) and the max event-loop delay.
// Usage: node bench/native-upload-memory.mjs [--size-mib 1024] [--part-mib 8] [--concurrency 8]
import { createRequire } from 'node:module';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const require = createRequire(import.meta.url);
const b = require('../native/binding.js');
const argv = process.argv.slice(2);
const opt = (n, d) => (argv.includes(`--${n}`) ? argv[argv.indexOf(`--${n}`) + 1] : d);
const MiB = 1024 * 1024;
const sizeMiB = Number(opt('size-mib', '1024'));
const partMiB = Number(opt('part-mib', '8'));
const concurrency = Number(opt('concurrency', '8'));

const dir = join(tmpdir(), `rs-upbench-${process.pid}`);
mkdirSync(dir, { recursive: true });
const store = b.NativeObjectStore.local(dir);
const chunk = Buffer.alloc(MiB, 0x42);
globalThis.gc?.();
const rss0 = process.memoryUsage().rss;
let peak = rss0;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
const hist = monitorEventLoopDelay({ resolution: 1 });
hist.enable();
const t0 = performance.now();
const up = store.createUpload('up.bin', { partSize: partMiB * MiB, concurrency }, new b.CancelToken());
for (let i = 0; i < sizeMiB; i++) await up.write(chunk);
await up.finish();
const secs = (performance.now() - t0) / 1000;
hist.disable();
clearInterval(sampler);
const ok = statSync(join(dir, 'up.bin')).size === sizeMiB * MiB;
console.log(
  JSON.stringify(
    {
      sizeMiB,
      partMiB,
      concurrency,
      ok,
      seconds: Number(secs.toFixed(2)),
      peakRssGrowthMiB: Math.round((peak - rss0) / MiB),
      approxBoundMiB: (concurrency + 1) * partMiB + 8, // parts in flight + the part being filled + 8 MiB single-PUT buffer; allocator slack on top
      eventLoopDelayMaxMs: Number((hist.max / 1e6).toFixed(2)),
    },
    null,
    2,
  ),
);
rmSync(dir, { recursive: true, force: true });
if (!ok) process.exitCode = 1;
