// Event-loop delay split in two: the time the main thread spent runnable but waiting for a CPU
// (the scheduler ran another process or thread: the server, the peer's own worker threads), and
// the rest, which the thread spent working (JS, garbage collection, native calls on the main
// thread). On a 2-core machine shared with the S3 server, the first part alone can reach tens
// of milliseconds; only the second is the peer's own stall.
//
// Linux counts the wait per thread in /proc/<pid>/task/<tid>/schedstat (second field, ns); the
// main thread's tid is the pid. A 1 ms timer reads it at every tick, so each tick's lateness can
// be split. Reading it costs one pread of a file kept open.
import { closeSync, openSync, readSync } from 'node:fs';

/**
 * Starts sampling. `stop()` returns the worst tick: `{ maxDelayMs, maxOwnMs, waitAtMaxDelayMs }`,
 * where `maxOwnMs` is the largest lateness of a tick less the CPU wait within it.
 */
export function startLoopProbe(intervalMs = 1) {
  const fd = openSync(`/proc/${process.pid}/task/${process.pid}/schedstat`, 'r');
  const buf = Buffer.alloc(96);
  const waitedNs = () => {
    const n = readSync(fd, buf, 0, buf.length, 0);
    return Number(buf.toString('latin1', 0, n).split(' ')[1]);
  };
  let lastAt = performance.now();
  let lastWaited = waitedNs();
  let maxDelayMs = 0;
  let waitAtMaxDelayMs = 0;
  let maxOwnMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    const waited = waitedNs();
    const delay = Math.max(0, now - lastAt - intervalMs);
    const wait = (waited - lastWaited) / 1e6;
    if (delay > maxDelayMs) {
      maxDelayMs = delay;
      waitAtMaxDelayMs = wait;
    }
    maxOwnMs = Math.max(maxOwnMs, delay - wait);
    lastAt = now;
    lastWaited = waited;
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      closeSync(fd);
      return { maxDelayMs, maxOwnMs: Math.max(0, maxOwnMs), waitAtMaxDelayMs };
    },
  };
}
