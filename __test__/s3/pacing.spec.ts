// The request pacer of the S3 wing (src/backends/s3/pacing.ts): how many requests start per
// turn of the event loop and how many run at once. Counted, never timed.
import test from 'ava';
import { RequestPacer } from '../../src/backends/s3/pacing';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const flushMicrotasks = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

/** A request that ends when the test says so. */
function request() {
  let end!: (value: string) => void;
  let fail!: (err: Error) => void;
  const done = new Promise<string>((resolve, reject) => {
    end = resolve;
    fail = reject;
  });
  return { done, end, fail };
}

test('at most perTurn requests start in one turn of the event loop; the rest start in the turns after', async (t) => {
  const pacer = new RequestPacer({ maxInFlight: 1000, perTurn: 4, turnBudgetMs: Infinity });
  let started = 0;
  const never = new Promise<never>(() => {});
  for (let i = 0; i < 10; i++) void pacer.run(() => (started++, never));
  await flushMicrotasks();
  t.is(started, 4);
  await nextTurn();
  t.is(started, 8);
  await nextTurn();
  t.is(started, 10);
});

test('at most maxInFlight requests run at once; each that ends admits the next, in the order they came', async (t) => {
  const pacer = new RequestPacer({ maxInFlight: 2, perTurn: 100, turnBudgetMs: Infinity });
  const order: number[] = [];
  const requests = Array.from({ length: 5 }, () => request());
  const results = requests.map((r, i) => pacer.run(() => (order.push(i), r.done)));
  await nextTurn();
  t.deepEqual(order, [0, 1]);
  requests[1]!.end('one');
  t.is(await results[1], 'one');
  await flushMicrotasks();
  t.deepEqual(order, [0, 1, 2]);
  requests[0]!.fail(new Error('zero failed'));
  await t.throwsAsync(results[0]!, { message: 'zero failed' });
  await flushMicrotasks();
  t.deepEqual(order, [0, 1, 2, 3], 'a failed request frees its slot too');
  for (const r of requests) r.end('done');
  t.deepEqual(await Promise.all(results.slice(2)), ['done', 'done', 'done']);
  t.deepEqual(order, [0, 1, 2, 3, 4]);
});

test('a request whose signal fires while it waits starts at once, without a slot, so it fails as an aborted request does', async (t) => {
  const pacer = new RequestPacer({ maxInFlight: 1, perTurn: 100, turnBudgetMs: Infinity });
  const first = request();
  void pacer.run(() => first.done);
  const controller = new AbortController();
  let sawAborted: boolean | undefined;
  const waiting = pacer.run(async () => {
    sawAborted = controller.signal.aborted;
    throw new Error('aborted before any I/O');
  }, controller.signal);
  let thirdStarted = false;
  const third = pacer.run(async () => {
    thirdStarted = true;
    return 'third';
  });
  await nextTurn();
  t.is(sawAborted, undefined, 'it waits while the one slot is taken');
  controller.abort();
  await t.throwsAsync(waiting, { message: 'aborted before any I/O' });
  t.true(sawAborted);
  await nextTurn();
  t.false(thirdStarted, 'the aborted request took no slot: the first still holds the only one');
  first.end('first');
  t.is(await third, 'third');
});

test('an already aborted signal starts the request at once and admits nothing else early', async (t) => {
  const pacer = new RequestPacer({ maxInFlight: 1, perTurn: 1, turnBudgetMs: Infinity });
  const controller = new AbortController();
  controller.abort();
  let ran = false;
  await pacer.run(async () => {
    ran = true;
  }, controller.signal);
  t.true(ran);
  t.is(await pacer.run(async () => 'next'), 'next', 'the slot and the turn were left for the next request');
});

test('limits below one and a budget of zero are refused', (t) => {
  t.throws(() => new RequestPacer({ maxInFlight: 0 }), { instanceOf: RangeError });
  t.throws(() => new RequestPacer({ perTurn: 0 }), { instanceOf: RangeError });
  t.throws(() => new RequestPacer({ turnBudgetMs: 0 }), { instanceOf: RangeError });
});

test('a turn held past its budget halves the starts allowed per turn; each short turn raises it by one', async (t) => {
  let clock = 0;
  const pacer = new RequestPacer({ maxInFlight: 1000, perTurn: 16, turnBudgetMs: 8, now: () => clock });
  let started = 0;
  for (let i = 0; i < 200; i++) void pacer.run(async () => void started++);
  const perTurn: number[] = [];
  let before = 0;
  const turn = async (heldMs: number) => {
    await flushMicrotasks();
    perTurn.push(started - before);
    before = started;
    clock += heldMs;
    await nextTurn();
  };
  await turn(30);
  await turn(30);
  await turn(0);
  await turn(0);
  await turn(0);
  await turn(0);
  t.deepEqual(perTurn, [16, 8, 4, 5, 6, 7]);
});

test('fewer starts allowed per turn also means fewer requests running (4 per start, at least 16)', async (t) => {
  let clock = 0;
  const pacer = new RequestPacer({ maxInFlight: 64, perTurn: 16, turnBudgetMs: 8, now: () => clock });
  const never = new Promise<never>(() => {});
  let started = 0;
  for (let i = 0; i < 100; i++) void pacer.run(() => (started++, never));
  await flushMicrotasks();
  t.is(started, 16);
  clock += 30;
  await nextTurn();
  t.is(started, 24, '8 starts allowed, up to 32 running');
  clock += 30;
  await nextTurn();
  t.is(pacer.allowance, 4);
  t.is(started, 24, 'up to 16 running: none starts until some end');
});

test('at least 16 requests may run however few starts a turn allows: a few long transfers do not hold up a HEAD', async (t) => {
  const pacer = new RequestPacer({ maxInFlight: 64, perTurn: 2, turnBudgetMs: Infinity });
  const never = new Promise<never>(() => {});
  let started = 0;
  for (let i = 0; i < 40; i++) void pacer.run(() => (started++, never));
  for (let turn = 0; turn < 12; turn++) await nextTurn();
  t.is(started, 16, '2 starts per turn, up to 16 running (not 2 × 4)');
});
