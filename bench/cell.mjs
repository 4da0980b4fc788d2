#!/usr/bin/env node
// One benchmark cell: one peer, one workload, one round, in a process of its own so that CPU
// time, peak RSS and event-loop delay belong to that peer alone. The orchestrator (run.mjs)
// plans the ops and passes the cell as JSON on stdin; the cell prints one JSON line.
//
// Cell: { peer: {name, module, options}, target: {endpoint, bucket, accessKey, secretKey,
//         region, httpBase}, concurrency, warmup: [op], measured: [op | {batch: [op]}] }
// Op:   { kind: get|put|putCreate|putFile|head|exists|list|copy, key, dst?, source?, size?, expect? }
//       (putCreate: a create-only write of a key that does not exist yet)
// Each measured entry is timed on its own; a batch runs its ops `concurrency` at a time.
// The Python peers implement the same protocol in peers/remote_store_py.py.
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { startLoopProbe } from './lib/loop-probe.mjs';

const cell = JSON.parse(readFileSync(0, 'utf8')); // on stdin: a batch of ops can exceed the 128 KiB limit of one argv string

/** Bytes sent on the loopback interface. The bench runs in a network namespace of its own
 *  (run.sh), so while one cell runs, this counts exactly its traffic, both directions
 *  (each loopback packet is sent once), TCP/IP headers included. */
function wireBytes() {
  const line = readFileSync('/proc/net/dev', 'utf8').split('\n').find((l) => l.trim().startsWith('lo:'));
  return Number(line.split(':')[1].trim().split(/\s+/)[8]); // the 9th counter is transmitted bytes
}

/** Runs `fns` with at most `limit` in flight. */
async function pooled(fns, limit) {
  let next = 0;
  const worker = async () => {
    while (next < fns.length) await fns[next++]();
  };
  await Promise.all(Array.from({ length: Math.min(limit, fns.length) }, worker));
}

const bodies = new Map();
let peer;

/** One call; what comes back is checked, so a peer that skips work cannot look fast. */
async function call(op) {
  const fn = peer[op.kind];
  if (typeof fn !== 'function') throw new Error(`peer ${cell.peer.name} has no '${op.kind}'`);
  const got = await fn.call(peer, op, bodies.get(op.source));
  if (op.expect !== undefined && got !== op.expect) {
    throw new Error(`${cell.peer.name} ${op.kind} '${op.key}' answered ${got}, expected ${op.expect}`);
  }
}
const run = (entry) => (entry.batch ? pooled(entry.batch.map((op) => () => call(op)), cell.concurrency) : call(entry));

const flat = (entries) => entries.flatMap((e) => e.batch ?? [e]);

try {
  const { open } = await import(`./peers/${cell.peer.module}.mjs`);
  peer = await open({ ...cell.target, ...cell.peer.options });
  // In-memory PUT bodies are loaded before timing; putFile streams from tmpfs while timed.
  for (const op of flat([...cell.warmup, ...cell.measured])) {
    if ((op.kind === 'put' || op.kind === 'putCreate') && !bodies.has(op.source)) bodies.set(op.source, readFileSync(op.source));
  }
  for (const entry of cell.warmup) await run(entry);
  await peer.prepare?.(flat(cell.measured));
  globalThis.gc?.();
  const hist = monitorEventLoopDelay({ resolution: 1 });
  // The longest garbage-collection pause while timed: tells a delay the collector caused
  // (under CPU contention a pause of a few ms of work can take tens of ms) from the peer's own.
  let gcPauseMax = 0;
  const notePauses = (entries) => {
    for (const e of entries) gcPauseMax = Math.max(gcPauseMax, e.duration);
  };
  const gcObserver = new PerformanceObserver((list) => notePauses(list.getEntries()));
  gcObserver.observe({ entryTypes: ['gc'] });
  const cpu0 = process.cpuUsage();
  const wire0 = wireBytes();
  hist.enable();
  // The same delay split into the main thread's wait for a CPU and its own work.
  const probe = startLoopProbe();
  const times = [];
  for (const entry of cell.measured) {
    const t0 = performance.now();
    await run(entry);
    times.push((performance.now() - t0) / 1000);
  }
  hist.disable();
  const loop = probe.stop();
  notePauses(gcObserver.takeRecords());
  gcObserver.disconnect();
  const wire = wireBytes() - wire0;
  const cpu = process.cpuUsage(cpu0);
  await peer.close?.();
  const result = {
    ok: true,
    times,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    wireBytes: wire,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    eventLoopMaxMs: hist.max / 1e6,
    eventLoopOwnMaxMs: loop.maxOwnMs,
    gcPauseMaxMs: gcPauseMax,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} catch (err) {
  process.stdout.write(`${JSON.stringify({ ok: false, error: String(err?.stack ?? err) })}\n`);
  process.exitCode = 1;
}
