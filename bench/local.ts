/**
 * The local backend's speed and event-loop delay, next to plain `node:fs/promises` doing the
 * same work (what a user would write by hand, without atomic writes or confinement).
 *
 *   node --import tsx bench/local.ts [--src DIR] [--dir DIR] [--quick]
 *
 * `--src` points at another checkout's `src/` (e.g. an older LocalBackend) to compare
 * versions; `--dir` is where the files go (default: the OS temp dir, a real disk here, so
 * fsync costs what it costs). Prints one markdown table: median time of an op (or of the
 * batch), throughput, and the worst event-loop delay seen while it ran.
 */
import { mkdtemp, mkdir, readFile, readdir, rm, stat, writeFile, open } from 'node:fs/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const arg = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const quick = args.includes('--quick');
const src = path.resolve(arg('--src') ?? path.join(__dirname, '..', 'src'));
const base = arg('--dir') ?? tmpdir();

interface Workload {
  id: string;
  /** Bytes moved per run, for the throughput column. */
  bytes?: number;
  /** Ops per run, for the ops/s column. */
  ops?: number;
  setup?: (dir: string) => Promise<void>;
  run: (dir: string) => Promise<void>;
}

interface Peer {
  id: string;
  workloads: (dir: string) => Workload[];
}

const MiB = 1024 * 1024;
const small = Buffer.alloc(1024, 1);
const big = Buffer.alloc((quick ? 16 : 100) * MiB, 2);
const N = quick ? 200 : 1000;
const FOLDERS = quick ? 20 : 100;

async function parallel(n: number, width: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < n) await fn(next++);
  }));
}

async function manyFiles(dir: string): Promise<void> {
  for (let f = 0; f < FOLDERS; f++) {
    await mkdir(path.join(dir, 'tree', `d${f}`), { recursive: true });
    await Promise.all(Array.from({ length: 100 }, (_, i) => writeFile(path.join(dir, 'tree', `d${f}`, `f${i}`), small)));
  }
}

async function libraryPeer(): Promise<Peer> {
  const lib = await import(pathToFileURL(path.join(src, 'index.ts')).href);
  return {
    id: 'remote-store local',
    workloads: (dir) => {
      const store = new lib.Store(new lib.LocalBackend({ root: dir }));
      let round = 0;
      return [
        { id: `write 1 KiB ×${N}`, ops: N, run: async () => { round++; for (let i = 0; i < N; i++) await store.write(`w${round}/k${i}`, small); } },
        { id: `write 1 KiB ×${N}, 64 at once`, ops: N, run: async () => { round++; await parallel(N, 64, (i) => store.write(`p${round}/k${i}`, small)); } },
        { id: `readBytes 1 KiB ×${N}`, ops: N, setup: async () => { for (let i = 0; i < N; i++) await store.write(`r/k${i}`, small, { overwrite: true }); }, run: async () => { for (let i = 0; i < N; i++) await store.readBytes(`r/k${i}`); } },
        { id: `readRange 4 KiB ×${N}`, ops: N, setup: () => store.write('range.bin', big, { overwrite: true }), run: async () => { for (let i = 0; i < N; i++) await store.readRange('range.bin', { offset: i * 4096, length: 4096 }); } },
        { id: `exists ×${N}`, ops: N, run: async () => { for (let i = 0; i < N; i++) await store.exists(`r/k${i}`); } },
        { id: `write ${big.length / MiB} MiB buffer`, bytes: big.length, run: () => store.write('big.bin', big, { overwrite: true }) },
        { id: `readBytes ${big.length / MiB} MiB`, bytes: big.length, run: () => store.readBytes('big.bin') },
        { id: `read stream ${big.length / MiB} MiB`, bytes: big.length, run: async () => { for await (const _ of await store.read('big.bin')); } },
        { id: `listFiles ${FOLDERS * 100} files, recursive`, setup: manyFiles, run: async () => { let n = 0; for await (const _ of store.listFiles('tree', { recursive: true })) n++; if (n !== FOLDERS * 100) throw new Error(`listed ${n}`); } },
      ];
    },
  };
}

/** The same work with node:fs/promises: plain writes (no temp file, no fsync), no confinement. */
function fsPeer(): Peer {
  return {
    id: 'node:fs/promises',
    workloads: (dir) => {
      let round = 0;
      const put = async (key: string, data: Buffer) => {
        const p = path.join(dir, key);
        await mkdir(path.dirname(p), { recursive: true });
        await writeFile(p, data);
      };
      return [
        { id: `write 1 KiB ×${N}`, ops: N, run: async () => { round++; for (let i = 0; i < N; i++) await put(`w${round}/k${i}`, small); } },
        { id: `write 1 KiB ×${N}, 64 at once`, ops: N, run: async () => { round++; await parallel(N, 64, (i) => put(`p${round}/k${i}`, small)); } },
        { id: `readBytes 1 KiB ×${N}`, ops: N, setup: async () => { for (let i = 0; i < N; i++) await put(`r/k${i}`, small); }, run: async () => { for (let i = 0; i < N; i++) await readFile(path.join(dir, 'r', `k${i}`)); } },
        { id: `readRange 4 KiB ×${N}`, ops: N, setup: () => put('range.bin', big), run: async () => { for (let i = 0; i < N; i++) { const h = await open(path.join(dir, 'range.bin')); await h.read(Buffer.alloc(4096), 0, 4096, i * 4096); await h.close(); } } },
        { id: `exists ×${N}`, ops: N, run: async () => { for (let i = 0; i < N; i++) await stat(path.join(dir, 'r', `k${i}`)).catch(() => undefined); } },
        { id: `write ${big.length / MiB} MiB buffer`, bytes: big.length, run: () => put('big.bin', big) },
        { id: `readBytes ${big.length / MiB} MiB`, bytes: big.length, run: async () => { await readFile(path.join(dir, 'big.bin')); } },
        { id: `read stream ${big.length / MiB} MiB`, bytes: big.length, run: async () => { const h = await open(path.join(dir, 'big.bin')); for await (const _ of h.createReadStream({ highWaterMark: MiB })); } },
        { id: `listFiles ${FOLDERS * 100} files, recursive`, setup: manyFiles, run: async () => { let n = 0; for (const e of await readdir(path.join(dir, 'tree'), { recursive: true, withFileTypes: true })) if (e.isFile()) { await stat(path.join(e.parentPath, e.name)); n++; } if (n !== FOLDERS * 100) throw new Error(`listed ${n}`); } },
      ];
    },
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(peer: Peer, rounds: number) {
  const dir = await mkdtemp(path.join(base, 'rs-bench-local-'));
  const rows: Array<{ workload: string; ms: number; rate: string; maxDelayMs: number }> = [];
  try {
    for (const w of peer.workloads(dir)) {
      await w.setup?.(dir);
      await w.run(dir); // warm-up
      const times: number[] = [];
      const h = monitorEventLoopDelay({ resolution: 1 });
      h.enable();
      for (let r = 0; r < rounds; r++) {
        const t0 = performance.now();
        await w.run(dir);
        times.push(performance.now() - t0);
      }
      h.disable();
      const ms = median(times);
      const rate = w.bytes ? `${((w.bytes / MiB) / (ms / 1000)).toFixed(0)} MiB/s` : w.ops ? `${Math.round(w.ops / (ms / 1000))} ops/s` : '';
      rows.push({ workload: w.id, ms, rate, maxDelayMs: h.max / 1e6 });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
}

async function main(): Promise<void> {
  const rounds = quick ? 2 : 5;
  const peers = [await libraryPeer(), fsPeer()];
  const results = [];
  for (const peer of peers) results.push({ peer: peer.id, rows: await measure(peer, rounds) });
  console.log(`src: ${src}; dir: ${base}; median of ${rounds} rounds\n`);
  console.log(`| workload | ${results.map((r) => r.peer).join(' | ')} |`);
  console.log(`| --- | ${results.map(() => '---').join(' | ')} |`);
  for (let i = 0; i < results[0]!.rows.length; i++) {
    const cells = results.map((r) => {
      const row = r.rows[i]!;
      return `${row.ms.toFixed(1)} ms${row.rate ? ` (${row.rate})` : ''}, loop ≤ ${row.maxDelayMs.toFixed(0)} ms`;
    });
    console.log(`| ${results[0]!.rows[i]!.workload} | ${cells.join(' | ')} |`);
  }
}

void main();
