// How the SDK uploader cuts a stream into parts (src/backends/s3/part-cutter.ts): the parts
// hold the stream's bytes in order whatever the chunk sizes, a chunk covering a whole part is
// never copied, and a part buffer is reused only once it has been released.
import test from 'ava';
import fc from 'fast-check';
import { PartCutter } from '../../src/backends/s3/part-cutter';

function bytes(n: number, seed: number): Buffer {
  const buf = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) buf[i] = (i * 31 + seed) & 0xff;
  return buf;
}

test('the parts and the rest hold the stream in order, every part full, whatever the chunk sizes', (t) => {
  const seen = { parts: 0, rests: 0 };
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 0, max: 64 }), fc.array(fc.integer({ min: 0, max: 200 }), { maxLength: 40 }), fc.boolean(), (size, gatherLimit, lengths, releaseEach) => {
      const cutter = new PartCutter(size, { gatherLimit });
      const chunks = lengths.map((n, i) => bytes(n, i));
      const out: Buffer[] = [];
      for (const chunk of chunks) {
        for (const part of cutter.add(chunk)) {
          if (part.length !== size) return false;
          // Copied out before release: a released buffer takes later bytes.
          out.push(Buffer.from(part));
          seen.parts++;
          if (releaseEach) cutter.release(part);
        }
      }
      const all = Buffer.concat(chunks);
      const rest = cutter.rest();
      if (rest.length > 0) seen.rests++;
      return rest.length === all.length % size && Buffer.concat([...out, rest]).equals(all);
    }),
    { numRuns: 500 },
  );
  // The runs cut parts and left rests (the property was not met by empty streams alone).
  t.true(seen.parts > 0 && seen.rests > 0, JSON.stringify(seen));
});

test("the tail of a large chunk is a view of it too (a Buffer write is never copied)", (t) => {
  const cutter = new PartCutter(4, { gatherLimit: 1 });
  const chunk = bytes(11, 1);
  t.is([...cutter.add(chunk)].length, 2);
  const rest = cutter.rest();
  t.is(rest.length, 3);
  chunk[10] = 0xcc;
  t.is(rest[2], 0xcc, 'the rest shows a change to the chunk: a view');
});

test('a chunk holding whole parts is passed on as views of it, not copied', (t) => {
  const cutter = new PartCutter(4, { gatherLimit: 0 });
  const chunk = bytes(8, 1);
  const parts = [...cutter.add(chunk)];
  t.is(parts.length, 2);
  t.is(cutter.rest().length, 0);
  // Views: a change to the chunk shows in the parts.
  chunk[0] = 0xaa;
  chunk[4] = 0xbb;
  t.is(parts[0][0], 0xaa);
  t.is(parts[1][0], 0xbb);
  // A view of the caller's bytes is never taken for a later part.
  const before = Buffer.from(chunk);
  cutter.release(parts[0]);
  const [next] = [...cutter.add(bytes(2, 2)), ...cutter.add(bytes(2, 3))];
  t.not(next, parts[0]);
  t.deepEqual(chunk, before, "the caller's bytes are untouched");
});

test('a part buffer is reused only after its release', (t) => {
  const cutter = new PartCutter(4, { gatherLimit: 0 });
  const [first] = [...cutter.add(bytes(4, 1).subarray(0, 2)), ...cutter.add(bytes(2, 2))];
  const [second] = [...cutter.add(bytes(1, 3)), ...cutter.add(bytes(3, 4))];
  t.not(second, first, 'a part still uploading is not overwritten');
  const kept = Buffer.from(second);
  cutter.release(first);
  const [third] = [...cutter.add(bytes(2, 5)), ...cutter.add(bytes(2, 6))];
  t.is(third, first, 'the released buffer takes the next part');
  t.deepEqual(second, kept, 'the unreleased part is untouched');
});

test('a write that ends below the gather limit allocates no part: its rest is its own bytes', (t) => {
  const cutter = new PartCutter(8 << 20);
  const a = bytes(1000, 1);
  const b = bytes(3000, 2);
  t.deepEqual([...cutter.add(a)], []);
  t.is(cutter.rest(), a, 'one chunk: the rest is that chunk, not a copy in a part buffer');
  t.deepEqual([...cutter.add(b)], []);
  t.deepEqual(cutter.rest(), Buffer.concat([a, b]));
  t.is(cutter.rest().length, 4000);
});
