/**
 * Native memory under garbage collection (issue 8): objects made in Rust and handed to
 * JavaScript — Buffers over native memory from get/getRange/getRanges — are created and
 * dropped by the thousand; after global.gc() the process's RSS is back near where it was and
 * nothing has crashed. Each case in CASES makes and drops one batch of native objects per
 * call; a case for Arrow tables slots in beside the Buffers one.
 *
 * Needs `--expose-gc` (ava's nodeArguments in package.json).
 */
import test from 'ava';
import { NativeObjectStore } from '../src/index';
import { settleNativeMemory } from './support/settle';
import { tempDir } from './support/tmp';

const MiB = 1024 * 1024;

interface Case {
  name: string;
  /** Puts what the batches read in place. */
  setup(store: NativeObjectStore): Promise<void>;
  /** Makes a batch of native objects, checks them, lets them go; returns the bytes they held. */
  batch(store: NativeObjectStore, n: number): Promise<number>;
}

const OBJECT = Buffer.alloc(MiB);
for (let i = 0; i < OBJECT.length; i += 4) OBJECT.writeUInt32LE(i, i);

const CASES: Case[] = [
  {
    name: 'Buffers from get, getRange and getRanges',
    setup: async (store) => void (await store.put('obj.bin', OBJECT)),
    batch: async (store, n) => {
      // All alive at once, so that the batch's memory is really held before it is dropped.
      const held = await Promise.all(
        Array.from({ length: n }, async (_, i) => {
          const offset = (i * 4096) % (MiB / 2);
          const [whole, range, ranges] = await Promise.all([
            store.get('obj.bin'),
            store.getRange('obj.bin', offset, 64 * 1024),
            store.getRanges('obj.bin', [
              { offset: 0, length: 1000 },
              { offset, length: 100_000 },
              { offset: MiB - 10, length: 10 },
            ]),
          ]);
          if (whole.readUInt32LE(4 * i) !== 4 * i || range.readUInt32LE(0) !== offset || ranges[1]!.readUInt32LE(0) !== offset) {
            throw new Error('a native Buffer holds the wrong bytes');
          }
          return [whole, range, ...ranges];
        }),
      );
      return held.flat().reduce((sum, b) => sum + b.length, 0);
    },
  },
];

const gc = (globalThis as { gc?: () => void }).gc;

const rssMiB = () => process.memoryUsage().rss / MiB;

for (const c of CASES) {
  test(`native GC stress: ${c.name}, thousands made and dropped, are given back`, async (t) => {
    t.truthy(gc, 'global.gc is missing: ava must run with --expose-gc');
    const { dir, remove } = await tempDir();
    t.teardown(remove);
    const store = NativeObjectStore.local(dir);
    await c.setup(store);
    const run = async (batches: number) => {
      let bytes = 0;
      for (let b = 0; b < batches; b++) bytes += await c.batch(store, 50);
      return bytes;
    };
    // Warm-up, one round as big as the measured ones: the allocator's arenas and the runtime's
    // threads reach their working size first (under load more threads take part, each with its arena).
    await run(20);
    await settleNativeMemory();
    const baseline = rssMiB();
    const after: number[] = [];
    let made = 0;
    for (let round = 0; round < 4; round++) {
      made += await run(20); // 1,000 objects of each kind per round
      await settleNativeMemory();
      after.push(rssMiB());
    }
    const summary = `made ${(made / MiB).toFixed(0)} MiB of native Buffers; RSS ${baseline.toFixed(0)} MiB at the start, ${after.map((r) => r.toFixed(0)).join(' → ')} MiB after each round`;
    t.log(summary);
    t.true(made > 2048 * MiB, `too little was made to tell: ${summary}`);
    // Released, not merely reused: a leak of even 1% of what was made would add 46 MiB.
    t.true(after[after.length - 1]! < baseline + 64, summary);
    t.true(after[after.length - 1]! < after[0]! + 24, `RSS keeps growing round after round: ${summary}`);
  });
}

// Serial: ava runs serial tests before the concurrent ones, so the stress test's memory does not count here.
test.serial('large native Buffers: a read reuses the memory of the one dropped before it, every byte its own, and it is given back once reads stop', async (t) => {
  t.truthy(gc, 'global.gc is missing: ava must run with --expose-gc');
  const { dir, remove } = await tempDir();
  t.teardown(remove);
  const store = NativeObjectStore.local(dir);
  // Two objects of one size (above the addon's reuse threshold, 64 MiB), read in turn: a reused
  // buffer still holds the other object's bytes until the read has overwritten every one.
  const size = 80 * MiB;
  const objects = [0x11, 0x22].map((seed) => {
    const b = Buffer.alloc(size, seed);
    for (let i = 0; i < size; i += 4096) b.writeUInt32LE(i ^ seed, i);
    return b;
  });
  await store.put('a.bin', objects[0]!);
  await store.put('b.bin', objects[1]!);
  await settleNativeMemory();
  const baseline = rssMiB();
  // In a function of its own: a Buffer left in this test's suspended frame stays reachable.
  const readIsExact = async (i: number) => (await store.get(i % 2 ? 'b.bin' : 'a.bin')).equals(objects[i % 2]!);
  for (let i = 0; i < 6; i++) {
    t.true(await readIsExact(i), `read ${i} holds bytes of another object`);
    // Dropped and collected before the next read, so that the next one may take its memory.
    gc!();
    await new Promise((r) => setTimeout(r, 20));
  }
  const held = rssMiB();
  // The addon keeps a freed large buffer for 2 s (memory.rs REUSE_FOR) for the next read.
  await new Promise((r) => setTimeout(r, 2000));
  await settleNativeMemory();
  const after = rssMiB();
  t.log(`RSS ${baseline.toFixed(0)} MiB before, ${held.toFixed(0)} MiB right after the reads, ${after.toFixed(0)} MiB once settled`);
  t.true(after < baseline + 32, `the last read's memory was not given back: ${after.toFixed(0)} MiB against ${baseline.toFixed(0)} MiB before`);
});
