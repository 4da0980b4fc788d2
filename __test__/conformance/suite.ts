/**
 * The conformance suite: one body of behavioural tests (DESIGN §4) that every
 * backend must pass. A spec file per backend calls `conformance(target)`.
 * Cases that only make sense for one kind of namespace are registered only for it
 * (as the Python suite filters by capability); nothing is skipped at run time.
 */
import test, { type ExecutionContext } from 'ava';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { inspect } from 'node:util';
import {
  AbortError,
  AlreadyExists,
  BackendUnavailable,
  Capability,
  CapabilityNotSupported,
  CapabilitySet,
  DirectoryNotEmpty,
  InvalidPath,
  NotFound,
  RemoteStoreError,
  Store,
  type FileInfo,
} from '../../src/index';
import { assertNoSecret } from '../support/sentinel';

export interface Fixture {
  store: Store;
  cleanup(): Promise<void>;
}

export interface Target {
  /** Shown in every test title. */
  name: string;
  /** A fresh, empty store that owns its backend. */
  make(): Promise<Fixture>;
  /** Folders are real nodes (local, memory) rather than key prefixes (S3). */
  hierarchical: boolean;
  /** After close() every call fails with BackendUnavailable. */
  terminalClose: boolean;
  /** Flat backends built with reject_write_under_file_ancestor. */
  rejectsWriteUnderFile?: boolean;
  /** Flat backends whose server can hold a key `a` and a key `a/b` at once. */
  fileAndPrefixCoexist?: boolean;
  /**
   * False when the server checks a conditional create (`If-None-Match: *`) and writes
   * without a lock, so concurrent creators can all win (s3s-fs 0.14, moto 5.2). The S3
   * backends' races are judged on versitygw instead (__test__/s3/create-race.spec.ts). Default true.
   */
  atomicCreate?: boolean;
  /** An unread `fs.ReadStream`'s file is read by the addon itself (local, s3-arrow), not the stream. */
  readsFilesNatively?: boolean;
  /**
   * False when the S3 server ignores `EncodingType=url` in listings (s3s-fs 0.14), so a key
   * with a character XML cannot carry (`\r`) lists changed. Default true.
   */
  listsEncodedKeys?: boolean;
  /** The longest store path the backend can hold (local: the OS's PATH_MAX); unlimited when undefined. */
  maxPathLength?: number;
}

type Body = (t: ExecutionContext, store: Store) => Promise<void>;

export const ROOT_SPELLINGS = ['', '.', './', './/', './.', '/'];

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

export const names = (items: Array<{ name: string }>) => items.map((i) => i.name).sort();
export const paths = (items: Array<{ path: string }>) => items.map((i) => i.path).sort();

/** Runs `body` with a temporary file of `size` random bytes, removed afterwards. */
async function withSourceFile(size: number, body: (file: string, data: Buffer) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rs-src-'));
  const data = randomBytes(size);
  const file = join(dir, 'source.bin');
  writeFileSync(file, data);
  try {
    await body(file, data);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An async source that yields `before` bytes and then fails, like a dropped upload. */
export async function* failingSource(before: number, chunk = 64 * 1024): AsyncGenerator<Buffer> {
  let sent = 0;
  while (sent < before) {
    const n = Math.min(chunk, before - sent);
    yield Buffer.alloc(n, 0x61);
    sent += n;
  }
  throw Object.assign(new Error('source connection reset'), { code: 'ECONNRESET' });
}

async function readStream(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

/**
 * A write whose source failed rejects the same way on every backend: our base error naming
 * the write's path, with the source's own error as `cause` (never taken for the target's).
 */
async function expectSourceFailure(t: ExecutionContext, work: () => Promise<unknown>, path: string, cause: RegExp): Promise<void> {
  const err = await expectError(t, work, RemoteStoreError, path);
  t.is(err.constructor, RemoteStoreError, `a source failure is no ${err.constructor.name}: ${err.message}`);
  t.regex(err.message, /the source failed/);
  t.regex(String((err.cause as Error | undefined)?.message), cause);
}

async function expectError<E extends Error>(
  t: ExecutionContext,
  work: () => Promise<unknown> | unknown,
  type: abstract new (...args: never[]) => E,
  path?: string,
): Promise<E> {
  const err = (await t.throwsAsync(async () => {
    await work();
  })) as unknown as E;
  t.true(err instanceof type, `expected ${type.name}, got ${err?.constructor?.name}: ${err?.message}`);
  assertNoSecret(t, err);
  if (path !== undefined && err instanceof RemoteStoreError) {
    t.is(err.path, path, `error.path of ${err.message}`);
    t.true(err.message.includes(path), `message '${err.message}' names '${path}'`);
  }
  return err;
}

export function conformance(target: Target): void {
  const hier = target.hierarchical;
  const strict = hier || target.rejectsWriteUnderFile === true;

  const it = (title: string, body: Body) => {
    test(`${target.name} › ${title}`, async (t) => {
      const fixture = await target.make();
      try {
        await body(t, fixture.store);
      } finally {
        await fixture.cleanup();
      }
    });
  };

  // ---------------------------------------------------------------- paths
  it('backslashes and empty or dot segments are normalised', async (t, s) => {
    await s.write('a\\b\\c.txt', 'x');
    t.is(await s.readText('a/b/c.txt'), 'x');
    await s.write('/x//y/./z.txt', 'y');
    t.is(await s.readText('x/y/z.txt'), 'y');
    t.deepEqual(paths(await collect(s.listFiles('x/y'))), ['x/y/z.txt']);
  });

  it("a '..' segment is refused everywhere with InvalidPath", async (t, s) => {
    await expectError(t, () => s.read('../escape'), InvalidPath);
    await expectError(t, () => s.write('a/../../b', 'x'), InvalidPath);
    await expectError(t, () => s.exists('..'), InvalidPath);
    await expectError(t, () => s.listFiles('a/..'), InvalidPath);
    await expectError(t, () => s.child('a/../b'), InvalidPath);
    t.deepEqual(await collect(s.listFiles('', { recursive: true })), []);
  });

  it('NUL bytes and non-string paths are refused with InvalidPath', async (t, s) => {
    await expectError(t, () => s.write('a\0b', 'x'), InvalidPath);
    await expectError(t, () => s.readBytes(42 as unknown as string), InvalidPath);
    await expectError(t, () => s.exists(null as unknown as string), InvalidPath);
  });

  it("'' and '.' are the root for probes on an empty store", async (t, s) => {
    for (const root of ['', '.']) {
      t.true(await s.exists(root));
      t.true(await s.isFolder(root));
      t.false(await s.isFile(root));
    }
  });

  it('the root stays a folder after writes', async (t, s) => {
    await s.write('rootprobe/a.txt', 'a');
    for (const root of ['', '.']) {
      t.true(await s.exists(root));
      t.true(await s.isFolder(root));
      t.false(await s.isFile(root));
    }
  });

  it('file operations on the root are refused with InvalidPath', async (t, s) => {
    await s.write('keep.txt', 'keep');
    for (const root of ['', '.']) {
      await expectError(t, async () => readStream(await s.read(root)), InvalidPath);
      await expectError(t, () => s.readBytes(root), InvalidPath);
      await expectError(t, () => s.readRange(root, { offset: 0 }), InvalidPath);
      await expectError(t, () => s.getFileInfo(root), InvalidPath);
      await expectError(t, () => s.head(root), InvalidPath);
      await expectError(t, () => s.delete(root), InvalidPath);
      await expectError(t, () => s.delete(root, { missingOk: true }), InvalidPath);
    }
    t.is(await s.readText('keep.txt'), 'keep');
  });

  it('writes to the root are refused under every spelling', async (t, s) => {
    await s.write('keep.txt', 'keep');
    for (const root of ROOT_SPELLINGS) {
      await expectError(t, () => s.write(root, 'x'), InvalidPath);
      await expectError(t, () => s.writeAtomic(root, 'x'), InvalidPath);
      let called = false;
      await expectError(t, () => s.openAtomic(root, {}, () => void (called = true)), InvalidPath);
      t.false(called);
    }
    t.is(await s.readText('keep.txt'), 'keep');
    t.true(await s.isFolder(''));
  });

  it('move and copy refuse the root as source or destination', async (t, s) => {
    await s.write('f.txt', 'f');
    for (const root of ROOT_SPELLINGS) {
      await expectError(t, () => s.move('f.txt', root), InvalidPath);
      await expectError(t, () => s.copy('f.txt', root), InvalidPath);
      await expectError(t, () => s.move(root, 'x.txt'), InvalidPath);
      await expectError(t, () => s.copy(root, 'x.txt'), InvalidPath);
    }
    t.is(await s.readText('f.txt'), 'f');
    t.false(await s.exists('x.txt'));
  });

  it('deleteFolder of the root is refused', async (t, s) => {
    await s.write('f.txt', 'f');
    for (const root of ROOT_SPELLINGS) {
      await expectError(t, () => s.deleteFolder(root, { recursive: true }), InvalidPath);
    }
    t.true(await s.exists('f.txt'));
  });

  it('getFolderInfo of the root aggregates the whole store, zero when empty', async (t, s) => {
    const empty = await s.getFolderInfo('');
    t.is(empty.fileCount, 0);
    t.is(empty.totalSize, 0);
    await s.write('a.txt', 'ab');
    await s.write('d/b.txt', 'abc');
    const info = await s.getFolderInfo('.');
    t.is(info.fileCount, 2);
    t.is(info.totalSize, 5);
    t.true(info.modifiedAt instanceof Date);
  });

  it('probes under a file ancestor answer false, like a missing path', async (t, s) => {
    await s.write('a/b', 'file');
    for (const p of ['a/b/c', 'a/b/c/d', 'x/y/z']) {
      t.false(await s.exists(p));
      t.false(await s.isFile(p));
      t.false(await s.isFolder(p));
    }
  });

  // ---------------------------------------------------------------- reads
  it('readBytes returns exact binary content', async (t, s) => {
    const data = Buffer.from([0, 1, 2, 0xff, 0xfe, 0, 10, 13]);
    await s.write('bin.dat', data);
    t.deepEqual(await s.readBytes('bin.dat'), data);
  });

  it('round-trips empty, text and 10 000-byte content', async (t, s) => {
    const big = Buffer.alloc(10_000);
    for (let i = 0; i < big.length; i++) big[i] = i % 251;
    await s.write('empty', Buffer.alloc(0));
    await s.write('text.txt', 'héllo wörld');
    await s.write('big.bin', big);
    t.is((await s.readBytes('empty')).length, 0);
    t.is(await s.readText('text.txt'), 'héllo wörld');
    t.deepEqual(await s.readBytes('big.bin'), big);
  });

  it('read streams the whole file from byte 0', async (t, s) => {
    const data = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < data.length; i += 4096) data[i] = (i / 4096) % 256;
    await s.write('stream.bin', data);
    const stream = await s.read('stream.bin');
    t.true(stream.readable);
    t.deepEqual(await readStream(stream), data);
  });

  it('read of an empty file ends at once', async (t, s) => {
    await s.write('zero', '');
    t.is((await readStream(await s.read('zero'))).length, 0);
  });

  it('a read stream destroyed early leaves the store usable', async (t, s) => {
    await s.write('big', Buffer.alloc(4 * 1024 * 1024, 1));
    const stream = await s.read('big');
    for await (const _chunk of stream) break;
    t.true(stream.destroyed);
    await s.write('big', 'small', { overwrite: true });
    t.is(await s.readText('big'), 'small');
  });

  it('reading a missing file raises NotFound naming it', async (t, s) => {
    await expectError(t, async () => readStream(await s.read('nope/missing.txt')), NotFound, 'nope/missing.txt');
    await expectError(t, () => s.readBytes('missing.txt'), NotFound, 'missing.txt');
    await expectError(t, () => s.readRange('missing.txt', { offset: 0, length: 1 }), NotFound, 'missing.txt');
  });

  it('reading a folder raises InvalidPath naming it', async (t, s) => {
    await s.write('dir/a.txt', 'a');
    await expectError(t, async () => readStream(await s.read('dir')), InvalidPath, 'dir');
    await expectError(t, () => s.readBytes('dir'), InvalidPath, 'dir');
  });

  if (hier) {
    it('reading under a file ancestor raises NotFound', async (t, s) => {
      await s.write('x.txt', 'x');
      await expectError(t, () => s.readBytes('x.txt/child.txt'), NotFound, 'x.txt/child.txt');
      await expectError(t, () => s.getFileInfo('x.txt/child.txt'), NotFound, 'x.txt/child.txt');
    });
  }

  it('readRange returns exactly the asked bytes, fewer at the end', async (t, s) => {
    await s.write('r.txt', '0123456789');
    t.is((await s.readRange('r.txt', { offset: 2, length: 3 })).toString(), '234');
    t.is((await s.readRange('r.txt', { offset: 7, length: 100 })).toString(), '789');
    t.is((await s.readRange('r.txt', { offset: 4 })).toString(), '456789');
    t.is((await s.readRange('r.txt', { offset: 10, length: 5 })).length, 0);
    t.is((await s.readRange('r.txt', { offset: 3, length: 0 })).length, 0);
  });

  it('readRange refuses bad offsets and lengths', async (t, s) => {
    await s.write('r.txt', '0123456789');
    await expectError(t, () => s.readRange('r.txt', { offset: -1, length: 2 }), RangeError);
    await expectError(t, () => s.readRange('r.txt', { offset: 1.5 }), TypeError);
    await expectError(t, () => s.readRange('r.txt', { length: 2 } as never), TypeError);
    await expectError(t, () => s.readRange('r.txt', { offset: 0, length: -3 }), RangeError);
  });

  it('readText decodes with the asked encoding and fails on invalid UTF-8', async (t, s) => {
    await s.writeText('latin.txt', 'café', { encoding: 'latin1' });
    t.is((await s.readBytes('latin.txt')).length, 4);
    t.is(await s.readText('latin.txt', { encoding: 'latin1' }), 'café');
    await s.write('bad.txt', Buffer.from([0xff, 0xfe, 0x41]));
    await expectError(t, () => s.readText('bad.txt'), TypeError);
    await expectError(t, () => s.readText('latin.txt', { encoding: 'klingon' as BufferEncoding }), TypeError);
  });

  it('a read with an aborted signal rejects with AbortError', async (t, s) => {
    await s.write('a.txt', 'a');
    const signal = AbortSignal.abort();
    const err = await expectError(t, () => s.readBytes('a.txt', { signal }), AbortError, 'a.txt');
    t.is(err.name, 'AbortError');
    t.is(err.backend, s.backend.name);
    await expectError(t, () => s.read('a.txt', { signal }), AbortError, 'a.txt');
  });

  it('every operation refuses an aborted signal with an AbortError naming its path', async (t, s) => {
    await s.write('ab/f.txt', 'x');
    const signal = AbortSignal.abort();
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['ab/new.txt', () => s.write('ab/new.txt', 'x', { signal })],
      ['ab/new.txt', () => s.writeAtomic('ab/new.txt', 'x', { signal })],
      ['ab/new.txt', () => s.openAtomic('ab/new.txt', { signal }, () => undefined)],
      ['ab/f.txt', () => s.readText('ab/f.txt', { signal })],
      ['ab/f.txt', () => s.exists('ab/f.txt', { signal })],
      ['ab/f.txt', () => s.getFileInfo('ab/f.txt', { signal })],
      ['ab/f.txt', () => s.delete('ab/f.txt', { signal })],
      ['ab/f.txt', () => s.copy('ab/f.txt', 'ab/g.txt', { signal })],
      ['ab', () => s.deleteFolder('ab', { recursive: true, signal })],
    ];
    for (const [path, call] of calls) await expectError(t, call, AbortError, path);
    t.true(await s.exists('ab/f.txt'));
    t.false(await s.exists('ab/new.txt'));
  });

  // ---------------------------------------------------------------- writes
  it('write creates the file and its parent folders', async (t, s) => {
    await s.write('a/b/c/deep.txt', Buffer.from('deep'));
    t.is(await s.readText('a/b/c/deep.txt'), 'deep');
    t.true(await s.isFolder('a/b'));
    t.true(await s.isFile('a/b/c/deep.txt'));
  });

  it('write accepts a Uint8Array view without its neighbours', async (t, s) => {
    const backing = new Uint8Array([9, 9, 1, 2, 3, 9]);
    await s.write('view.bin', backing.subarray(2, 5));
    t.deepEqual([...(await s.readBytes('view.bin'))], [1, 2, 3]);
  });

  it('write consumes a Readable from its current position', async (t, s) => {
    const stream = Readable.from([Buffer.from('HEADER_'), Buffer.from('PAYLOAD')], { objectMode: false });
    const first = await new Promise<Buffer>((resolve) => stream.once('readable', () => resolve(stream.read(7) as Buffer)));
    t.is(first.toString(), 'HEADER_');
    await s.write('rest.txt', stream);
    t.is(await s.readText('rest.txt'), 'PAYLOAD');
  });

  it('write accepts async and sync iterables of chunks', async (t, s) => {
    async function* gen() {
      yield Buffer.from('ab');
      yield new Uint8Array([0x63]);
      yield Buffer.alloc(0);
      yield Buffer.from('d');
    }
    await s.write('async.txt', gen());
    await s.write('sync.txt', [Buffer.from('x'), Buffer.from('yz')]);
    t.is(await s.readText('async.txt'), 'abcd');
    t.is(await s.readText('sync.txt'), 'xyz');
  });

  it('write refuses an existing file without overwrite and keeps it', async (t, s) => {
    await s.write('f.txt', 'one');
    await expectError(t, () => s.write('f.txt', 'two'), AlreadyExists, 'f.txt');
    await expectError(t, () => s.writeAtomic('f.txt', 'two'), AlreadyExists, 'f.txt');
    t.is(await s.readText('f.txt'), 'one');
  });

  it('overwrite: true replaces the file', async (t, s) => {
    await s.write('f.txt', 'one');
    const result = await s.write('f.txt', 'three', { overwrite: true });
    t.is(result.size, 5);
    t.is(await s.readText('f.txt'), 'three');
    await s.writeAtomic('f.txt', 'four', { overwrite: true });
    t.is(await s.readText('f.txt'), 'four');
  });

  if (hier) {
    it('writing at a folder raises InvalidPath, with overwrite too', async (t, s) => {
      await s.write('dir/a.txt', 'a');
      await expectError(t, () => s.write('dir', 'x'), InvalidPath, 'dir');
      await expectError(t, () => s.write('dir', 'x', { overwrite: true }), InvalidPath, 'dir');
      await expectError(t, () => s.writeAtomic('dir', 'x', { overwrite: true }), InvalidPath, 'dir');
      t.is(await s.readText('dir/a.txt'), 'a');
    });
  }

  if (strict) {
    it('writing under a file ancestor raises InvalidPath naming the ancestor', async (t, s) => {
      await s.write('anc.txt', 'ancestor');
      const err = await expectError(t, () => s.write('anc.txt/child.txt', 'x'), InvalidPath);
      t.true(err.message.includes("'anc.txt'"), err.message);
      await expectError(t, () => s.writeAtomic('anc.txt/deeper/child.txt', 'x'), InvalidPath);
      t.is(await s.readText('anc.txt'), 'ancestor');
    });

    it('openAtomic under a file ancestor raises InvalidPath and leaves no temp file', async (t, s) => {
      await s.write('anc.txt', 'ancestor');
      await expectError(t, () => s.openAtomic('anc.txt/child', {}, (w) => void w.write('x')), InvalidPath);
      t.deepEqual(paths(await collect(s.listFiles('', { recursive: true }))), ['anc.txt']);
    });
  }

  if (!hier && target.fileAndPrefixCoexist && !target.rejectsWriteUnderFile) {
    it('a flat store lets a key and a prefix of the same name coexist', async (t, s) => {
      await s.write('a', 'file');
      await s.write('a/b', 'under');
      t.is(await s.readText('a'), 'file');
      t.is(await s.readText('a/b'), 'under');
      t.true(await s.isFile('a'));
      t.true(await s.isFolder('a'));
    });
  }

  it('WriteResult reports path, size and a source that matches the capabilities', async (t, s) => {
    const result = await s.write('res/w.txt', 'hello');
    t.is(result.path, 'res/w.txt');
    t.is(result.size, 5);
    if (s.supports(Capability.WRITE_RESULT_NATIVE)) {
      t.is(result.source, 'native');
      // Filled from the write's own answer: S3 answers a PUT without Last-Modified (no HEAD after a write).
      t.true(result.lastModified === undefined || result.lastModified instanceof Date);
      const info = await s.getFileInfo('res/w.txt');
      t.is(info.size, result.size);
      if (result.etag !== undefined) t.is<string | undefined, string | undefined>(result.etag, info.etag);
    } else {
      t.is(result.source, 'basic');
      t.is(result.etag, undefined);
      t.is(result.lastModified, undefined);
    }
    const streamed = await s.writeAtomic('res/s.bin', Readable.from([Buffer.alloc(100 * 1024, 7)], { objectMode: false }));
    t.is(streamed.size, 100 * 1024);
  });

  it('writeAtomic creates files and parent folders', async (t, s) => {
    const result = await s.writeAtomic('at/om/ic.txt', 'atomic');
    t.is(result.path, 'at/om/ic.txt');
    t.is(await s.readText('at/om/ic.txt'), 'atomic');
  });

  it('writeAtomic whose source fails half-way commits nothing and leaves nothing', async (t, s) => {
    await expectSourceFailure(t, () => s.writeAtomic('fail/atomic.bin', failingSource(256 * 1024)), 'fail/atomic.bin', /connection reset/);
    t.false(await s.exists('fail/atomic.bin'));
    t.deepEqual(await collect(s.listFiles('', { recursive: true })), []);
  });

  it('a plain write whose source fails half-way leaves no truncated file', async (t, s) => {
    await expectSourceFailure(t, () => s.write('fail/plain.bin', failingSource(256 * 1024)), 'fail/plain.bin', /connection reset/);
    t.false(await s.exists('fail/plain.bin'));
    t.deepEqual(await collect(s.listFiles('', { recursive: true })), []);
  });

  it('a failing overwrite keeps the old content', async (t, s) => {
    await s.write('keep.bin', 'old');
    await t.throwsAsync(() => s.writeAtomic('keep.bin', failingSource(100 * 1024), { overwrite: true }));
    t.is(await s.readText('keep.bin'), 'old');
  });

  it('openAtomic commits what the callback wrote', async (t, s) => {
    const result = await s.openAtomic('oa/file.txt', {}, async (w) => {
      w.write('part one, ');
      w.write(Buffer.from('part two'));
    });
    t.is(result.path, 'oa/file.txt');
    t.is(result.size, 18);
    t.is(await s.readText('oa/file.txt'), 'part one, part two');
  });

  it('openAtomic discards everything when the callback throws and rethrows its error', async (t, s) => {
    const boom = new Error('callback failed');
    const err = await t.throwsAsync(() =>
      s.openAtomic('oa/never.txt', {}, async (w) => {
        w.write(Buffer.alloc(300 * 1024, 1));
        throw boom;
      }),
    );
    t.is(err, boom);
    t.false(await s.exists('oa/never.txt'));
    t.deepEqual(await collect(s.listFiles('', { recursive: true })), []);
  });

  it('openAtomic raises AlreadyExists before running the callback', async (t, s) => {
    await s.write('oa.txt', 'old');
    let called = false;
    await expectError(t, () => s.openAtomic('oa.txt', {}, () => void (called = true)), AlreadyExists, 'oa.txt');
    t.false(called);
    await s.openAtomic('oa.txt', { overwrite: true }, (w) => void w.write('new'));
    t.is(await s.readText('oa.txt'), 'new');
  });

  it('openAtomic streams a large body with backpressure', async (t, s) => {
    const chunk = Buffer.alloc(256 * 1024, 3);
    await s.openAtomic('oa/big.bin', {}, async (w) => {
      for (let i = 0; i < 24; i++) {
        if (!w.write(chunk)) await new Promise((resolve) => w.once('drain', resolve));
      }
    });
    t.is((await s.getFileInfo('oa/big.bin')).size, 24 * chunk.length);
  });

  it('bad metadata is refused before any I/O', async (t, s) => {
    const bad: unknown[] = [{ k: 1 }, { '': 'v' }, { _hidden: 'v' }, { 'clé': 'v' }, { k: 'x'.repeat(3000) }, ['a'], 'str'];
    for (const metadata of bad) {
      const err = await t.throwsAsync(() => s.write('meta.txt', 'x', { metadata: metadata as Record<string, string> }));
      t.true(err instanceof TypeError || err instanceof RangeError, `${JSON.stringify(metadata)} → ${err?.constructor.name}`);
    }
    t.false(await s.exists('meta.txt'));
    await s.write('ok.txt', 'x', { metadata: {} });
    t.true(await s.exists('ok.txt'));
  });

  {
    it('user metadata round-trips where supported and is refused elsewhere', async (t, s) => {
      const metadata = { owner: 'ana', 'x-kind': 'report' };
      if (s.supports(Capability.USER_METADATA)) {
        const result = await s.write('m.txt', 'x', { metadata });
        t.deepEqual(result.metadata, metadata);
        t.deepEqual((await s.getFileInfo('m.txt')).metadata, metadata);
        await s.copy('m.txt', 'copy.txt');
        t.deepEqual((await s.getFileInfo('copy.txt')).metadata, metadata);
        await s.move('m.txt', 'moved.txt');
        t.deepEqual((await s.getFileInfo('moved.txt')).metadata, metadata);
      } else {
        const err = await expectError(t, () => s.write('m.txt', 'x', { metadata }), CapabilityNotSupported);
        t.is(err.capability, 'user_metadata');
        t.false(await s.exists('m.txt'));
        const plain = await s.write('p.txt', 'x');
        t.is(plain.metadata, undefined);
        t.is((await s.getFileInfo('p.txt')).metadata, undefined);
      }
    });
  }

  it('wrong content types and unknown options are TypeErrors naming the culprit', async (t, s) => {
    await expectError(t, () => s.write('x.txt', 42 as never), TypeError);
    const err = await expectError(t, () => s.write('x.txt', 'x', { overwite: true } as never), TypeError);
    t.true(err.message.includes("'overwite'"));
    await expectError(t, () => s.write('x.txt', 'x', { overwrite: 'yes' } as never), TypeError);
    await expectError(t, () => s.listFiles('', { maxDepth: -1 }), RangeError);
    t.false(await s.exists('x.txt'));
  });

  it('onProgress reports the bytes written', async (t, s) => {
    const seen: number[] = [];
    async function* chunks() {
      for (let i = 0; i < 4; i++) yield Buffer.alloc(64 * 1024, i);
    }
    await s.write('p.bin', chunks(), { onProgress: ({ bytes }) => seen.push(bytes) });
    t.true(seen.length >= 1);
    t.is(seen[seen.length - 1], 256 * 1024);
    t.deepEqual([...seen].sort((a, b) => a - b), seen);
  });

  // ---------------------------------------------------------------- local files as sources
  // An unread fs.ReadStream may be read by the data path itself (s3-arrow reads the file in
  // Rust); whichever way, the object holds exactly the bytes the stream would have given.
  it('an fs.ReadStream uploads its file, from start to end, with progress', async (t, s) => {
    await withSourceFile(17 * 1024 * 1024 + 3, async (file, data) => {
      const seen: number[] = [];
      const whole = await s.write('f/whole.bin', createReadStream(file), { onProgress: ({ bytes }) => seen.push(bytes) });
      t.is(whole.size, data.length);
      t.true((await s.readBytes('f/whole.bin')).equals(data));
      t.is(seen[seen.length - 1], data.length);
      t.deepEqual([...seen].sort((a, b) => a - b), seen);
      t.is((await s.write('f/part.bin', createReadStream(file, { start: 5, end: 9 * 1024 * 1024 }))).size, 9 * 1024 * 1024 - 4);
      t.true((await s.readBytes('f/part.bin')).equals(data.subarray(5, 9 * 1024 * 1024 + 1)));
      await s.write('f/empty.bin', createReadStream(file, { start: data.length }));
      t.is((await s.readBytes('f/empty.bin')).length, 0);
    });
  });

  it('an fs.ReadStream already read from, or decoding, gives what it yields', async (t, s) => {
    await withSourceFile(300 * 1024, async (file, data) => {
      const started = createReadStream(file, { highWaterMark: 1000 });
      const first = await new Promise<Buffer>((resolve) => started.once('readable', () => resolve(started.read(700) as Buffer)));
      await s.write('f/rest.bin', started);
      t.true(Buffer.concat([first, await s.readBytes('f/rest.bin')]).equals(data));
      await s.write('f/hex.txt', createReadStream(file, { encoding: 'hex', end: 99 }));
      t.is(await s.readText('f/hex.txt'), data.subarray(0, 100).toString('hex'));
    });
  });

  it('an fs.ReadStream over a custom fs reads through that fs', async (t, s) => {
    await withSourceFile(64 * 1024, async (file) => {
      const fs = await import('node:fs');
      // A file system whose every read gives 'z': the path means that file system's file.
      const zeds = {
        open: fs.open,
        close: fs.close,
        read: (fd: number, buf: Buffer, off: number, len: number, pos: number, cb: (e: Error | null, n: number, b: Buffer) => void) =>
          fs.read(fd, buf, off, len, pos, (err, n) => (buf.fill(0x7a, off, off + n), cb(err, n, buf))),
      };
      await s.write('f/z.bin', createReadStream(file, { fs: zeds } as never));
      t.true((await s.readBytes('f/z.bin')).equals(Buffer.alloc(64 * 1024, 0x7a)));
    });
  });

  it('an fs.ReadStream of a named pipe is read as a stream, whatever writes to it', async (t, s) => {
    const dir = mkdtempSync(join(tmpdir(), 'rs-src-'));
    try {
      const fifo = join(dir, 'pipe');
      execFileSync('mkfifo', [fifo]);
      const data = randomBytes(300 * 1024);
      // The writer runs while the write waits for data: a source that is no file by offset.
      const writing = s.write('f/fifo.bin', createReadStream(fifo));
      await new Promise<void>((resolve, reject) => createWriteStream(fifo).on('error', reject).end(data, resolve));
      t.is((await writing).size, data.length);
      t.true((await s.readBytes('f/fifo.bin')).equals(data));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an fs.ReadStream of a missing file fails the write and leaves nothing', async (t, s) => {
    const dir = mkdtempSync(join(tmpdir(), 'rs-src-'));
    try {
      // Held until read (no uncaught error), also when the write fails its own checks first.
      // The source's ENOENT, not a NotFound of the target.
      await expectSourceFailure(t, () => s.write('f/missing.bin', createReadStream(join(dir, 'nope.bin'))), 'f/missing.bin', /ENOENT/);
      await expectError(t, () => s.write('../escape.bin', createReadStream(join(dir, 'nope.bin'))), InvalidPath);
      await new Promise((resolve) => setTimeout(resolve, 50));
      t.false(await s.exists('f/missing.bin'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a write that fails closes the stream it was given, read from or not', async (t, s) => {
    await withSourceFile(3 * 1024 * 1024, async (file) => {
      await s.write('f/taken.bin', 'x');
      const failures: Array<[string, (stream: Readable) => Promise<unknown>]> = [
        ['an existing target', (stream) => s.write('f/taken.bin', stream, { overwrite: false })],
        ['the same, atomically', (stream) => s.writeAtomic('f/taken.bin', stream)],
        ['a bad path', (stream) => s.write('../out.bin', stream)],
        ['an unknown option', (stream) => s.write('f/new.bin', stream, { overwite: true } as never)],
        ['an aborted signal', (stream) => s.write('f/new.bin', stream, { signal: AbortSignal.abort() })],
        ['an abort midway', (stream) => {
          const controller = new AbortController();
          return s.write('f/new.bin', stream, { signal: controller.signal, onProgress: () => controller.abort() });
        }],
      ];
      for (const [what, write] of failures) {
        const stream = createReadStream(file);
        await t.throwsAsync(() => write(stream), undefined, what);
        t.true(stream.destroyed, what);
        // Then its file closes (an unread fs.ReadStream otherwise holds it open for good). When
        // depends on the fs thread pool, which the suite's other tests keep busy: no deadline.
        if (!stream.closed) await new Promise<void>((resolve) => stream.once('close', () => resolve()));
      }
      t.is(await s.readText('f/taken.bin'), 'x');
      t.false(await s.exists('f/new.bin'));
    });
  });

  it('an unread fs.ReadStream is read by the addon where the backend can, else as a stream', async (t, s) => {
    await withSourceFile(3 * 1024 * 1024 + 5, async (file, data) => {
      const stream = createReadStream(file);
      t.is((await s.write('f/native.bin', stream)).size, data.length);
      t.is(stream.bytesRead, target.readsFilesNatively ? 0 : data.length);
      t.true(stream.destroyed);
      t.true((await s.readBytes('f/native.bin')).equals(data));
    });
  });

  it('an fs.ReadStream keeps reading the file it opened when another is renamed over it', async (t, s) => {
    await withSourceFile(12 * 1024 * 1024, async (file, data) => {
      const other = `${file}.other`;
      writeFileSync(other, Buffer.alloc(12 * 1024 * 1024, 0x6f));
      let swapped = false;
      const onProgress = () => {
        if (!swapped) renameSync(other, file);
        swapped = true;
      };
      await s.write('f/swap.bin', createReadStream(file), { onProgress });
      t.true(swapped);
      t.true((await s.readBytes('f/swap.bin')).equals(data));
    });
  });

  it('a write whose fs.ReadStream is destroyed midway fails and leaves nothing', async (t, s) => {
    await withSourceFile(20 * 1024 * 1024, async (file) => {
      const stream = createReadStream(file);
      await expectSourceFailure(t, () => s.write('f/destroyed.bin', stream, { onProgress: () => stream.destroy() }), 'f/destroyed.bin', /./);
      t.false(await s.exists('f/destroyed.bin'));
      t.deepEqual(await collect(s.listFiles('', { recursive: true })), []);
    });
  });

  it('a write from an fs.ReadStream aborted midway rejects with AbortError and leaves nothing', async (t, s) => {
    await withSourceFile(20 * 1024 * 1024, async (file) => {
      const controller = new AbortController();
      const writing = s.write('f/aborted.bin', createReadStream(file), { signal: controller.signal, onProgress: () => controller.abort() });
      await expectError(t, () => writing, AbortError);
      t.false(await s.exists('f/aborted.bin'));
      t.deepEqual(await collect(s.listFiles('', { recursive: true })), []);
    });
  });

  it('a write aborted mid-stream rejects with AbortError and leaves nothing', async (t, s) => {
    const controller = new AbortController();
    async function* slow() {
      yield Buffer.alloc(128 * 1024, 1);
      controller.abort();
      await new Promise((r) => setTimeout(r, 20));
      yield Buffer.alloc(128 * 1024, 2);
    }
    await expectError(t, () => s.write('ab/x.bin', slow(), { signal: controller.signal }), AbortError);
    await expectError(t, () => s.write('ab/y.bin', 'x', { signal: AbortSignal.abort() }), AbortError);
    t.false(await s.exists('ab/x.bin'));
    t.false(await s.exists('ab/y.bin'));
    t.deepEqual(await collect(s.listFiles('', { recursive: true })), []);
  });

  it('an abort ends a write whose source has gone quiet', async (t, s) => {
    const controller = new AbortController();
    async function* stalls() {
      yield Buffer.alloc(64 * 1024, 1);
      await new Promise(() => undefined); // never produces again
    }
    const writing = s.write('quiet/x.bin', stalls(), { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    await expectError(t, () => writing, AbortError);
    t.false(await s.exists('quiet/x.bin'));
    t.deepEqual(await collect(s.listFiles('', { recursive: true })), []);
  });

  // ---------------------------------------------------------------- deletes
  it('delete removes the file and nothing else', async (t, s) => {
    await s.write('d/a.txt', 'a');
    await s.write('d/b.txt', 'b');
    await s.delete('d/a.txt');
    t.false(await s.exists('d/a.txt'));
    t.is(await s.readText('d/b.txt'), 'b');
  });

  it('delete of a missing file raises NotFound unless missingOk', async (t, s) => {
    await expectError(t, () => s.delete('missing.txt'), NotFound, 'missing.txt');
    await t.notThrowsAsync(() => s.delete('missing.txt', { missingOk: true }));
  });

  it('delete of a folder raises InvalidPath even with missingOk', async (t, s) => {
    await s.write('fold/child.txt', 'c');
    await expectError(t, () => s.delete('fold'), InvalidPath, 'fold');
    await expectError(t, () => s.delete('fold', { missingOk: true }), InvalidPath, 'fold');
    t.is(await s.readText('fold/child.txt'), 'c');
  });

  it('delete under a file ancestor counts as missing', async (t, s) => {
    await s.write('anc.txt', 'a');
    await expectError(t, () => s.delete('anc.txt/child'), NotFound, 'anc.txt/child');
    await t.notThrowsAsync(() => s.delete('anc.txt/child', { missingOk: true }));
    t.is(await s.readText('anc.txt'), 'a');
  });

  it('deleteFolder recursive removes the whole subtree', async (t, s) => {
    await s.write('dir2/a.txt', 'a');
    await s.write('dir2/sub/b.txt', 'b');
    await s.write('dir2-sibling.txt', 's');
    await s.deleteFolder('dir2', { recursive: true });
    t.false(await s.exists('dir2'));
    t.deepEqual(await collect(s.listFiles('dir2', { recursive: true })), []);
    t.true(await s.exists('dir2-sibling.txt'));
  });

  it('deleteFolder of a non-empty folder without recursive raises DirectoryNotEmpty', async (t, s) => {
    await s.write('full/a.txt', 'a');
    await expectError(t, () => s.deleteFolder('full'), DirectoryNotEmpty, 'full');
    t.true(await s.exists('full/a.txt'));
  });

  it('deleteFolder of a missing folder raises NotFound unless missingOk', async (t, s) => {
    await expectError(t, () => s.deleteFolder('nodir'), NotFound, 'nodir');
    await t.notThrowsAsync(() => s.deleteFolder('nodir', { missingOk: true }));
  });

  it('deleteFolder of a file raises InvalidPath and keeps the file', async (t, s) => {
    await s.write('file.txt', 'f');
    await expectError(t, () => s.deleteFolder('file.txt'), InvalidPath, 'file.txt');
    await expectError(t, () => s.deleteFolder('file.txt', { missingOk: true, recursive: true }), InvalidPath, 'file.txt');
    t.is(await s.readText('file.txt'), 'f');
  });

  if (hier) {
    it('an emptied folder persists and can then be deleted', async (t, s) => {
      await s.write('keep/a.txt', 'a');
      await s.delete('keep/a.txt');
      t.true(await s.isFolder('keep'));
      t.deepEqual(names(await collect(s.listFolders(''))), ['keep']);
      await s.deleteFolder('keep');
      t.false(await s.exists('keep'));
    });
  } else {
    it('a virtual folder vanishes with its last file', async (t, s) => {
      await s.write('virt/a.txt', 'a');
      t.true(await s.isFolder('virt'));
      await s.delete('virt/a.txt');
      t.false(await s.isFolder('virt'));
      t.false(await s.exists('virt'));
      await expectError(t, () => s.deleteFolder('virt'), NotFound, 'virt');
    });
  }

  // ---------------------------------------------------------------- listing
  async function depthTree(s: Store) {
    for (const p of ['pc/a', 'pc/d1/b', 'pc/d1/c', 'pc/d1/d2/d', 'pc/d1/d2/d3/e']) await s.write(p, p);
  }

  it('listFiles lists direct files only by default', async (t, s) => {
    await s.write('lf/a.txt', 'a');
    await s.write('lf/b.txt', 'b');
    await s.write('lf/sub/c.txt', 'c');
    const files = await collect(s.listFiles('lf'));
    t.deepEqual(names(files), ['a.txt', 'b.txt']);
    t.deepEqual(paths(files), ['lf/a.txt', 'lf/b.txt']);
  });

  it('listFiles recursive lists every file below', async (t, s) => {
    await s.write('lfr/a.txt', 'a');
    await s.write('lfr/sub/b.txt', 'bb');
    await s.write('lfr/sub/deeper/c.txt', 'ccc');
    const files = await collect(s.listFiles('lfr', { recursive: true }));
    t.deepEqual(paths(files), ['lfr/a.txt', 'lfr/sub/b.txt', 'lfr/sub/deeper/c.txt']);
    const c = files.find((f) => f.name === 'c.txt') as FileInfo;
    t.is(c.size, 3);
    t.true(c.modifiedAt instanceof Date);
  });

  it('maxDepth counts folder levels, inclusively', async (t, s) => {
    await depthTree(s);
    t.deepEqual(names(await collect(s.listFiles('pc'))), ['a']);
    t.deepEqual(names(await collect(s.listFiles('pc', { recursive: true, maxDepth: 0 }))), ['a']);
    t.deepEqual(names(await collect(s.listFiles('pc', { recursive: true, maxDepth: 1 }))), ['a', 'b', 'c']);
    t.deepEqual(names(await collect(s.listFiles('pc', { recursive: true, maxDepth: 2 }))), ['a', 'b', 'c', 'd']);
    t.deepEqual(names(await collect(s.listFiles('pc', { recursive: true, maxDepth: 3 }))), ['a', 'b', 'c', 'd', 'e']);
    t.deepEqual(names(await collect(s.listFiles('pc', { recursive: true }))), ['a', 'b', 'c', 'd', 'e']);
  });

  it('maxDepth decides recursion by itself', async (t, s) => {
    await depthTree(s);
    t.deepEqual(names(await collect(s.listFiles('pc', { recursive: false, maxDepth: 1 }))), ['a', 'b', 'c']);
    t.deepEqual(names(await collect(s.listFiles('', { maxDepth: 1 }))), ['a']);
  });

  it('a negative maxDepth is a RangeError', async (t, s) => {
    await expectError(t, () => s.listFiles('', { maxDepth: -1 }), RangeError);
    await expectError(t, () => s.listFolders('', { maxDepth: -1 }), RangeError);
    await expectError(t, () => s.getFolderInfo('', { maxDepth: -1 }), RangeError);
  });

  it('pattern filters base names', async (t, s) => {
    await s.write('pat/a.csv', '1');
    await s.write('pat/b.txt', '2');
    await s.write('pat/sub/c.csv', '3');
    t.deepEqual(names(await collect(s.listFiles('pat', { pattern: '*.csv' }))), ['a.csv']);
    t.deepEqual(names(await collect(s.listFiles('pat', { pattern: '*.csv', recursive: true }))), ['a.csv', 'c.csv']);
    t.deepEqual(names(await collect(s.listFiles('pat', { pattern: '[!a]*' }))), ['b.txt']);
  });

  it('listing a missing path, a file or a path under a file yields nothing', async (t, s) => {
    await s.write('badanc.txt', 'x');
    t.deepEqual(await collect(s.listFiles('missing')), []);
    t.deepEqual(await collect(s.listFiles('badanc.txt')), []);
    t.deepEqual(await collect(s.listFiles('badanc.txt/child', { recursive: true })), []);
    t.deepEqual(await collect(s.listFolders('missing')), []);
    t.deepEqual(await collect(s.iterChildren('missing')), []);
  });

  it('recursive listing stays inside the listed folder', async (t, s) => {
    await s.write('lfc/a.txt', 'a');
    await s.write('lfc-other/b.txt', 'b');
    await s.write('lfcx.txt', 'c');
    t.deepEqual(paths(await collect(s.listFiles('lfc', { recursive: true }))), ['lfc/a.txt']);
  });

  it('listing the root lists the whole store', async (t, s) => {
    await s.write('top.txt', 't');
    await s.write('d/inner.txt', 'i');
    t.deepEqual(paths(await collect(s.listFiles(''))), ['top.txt']);
    t.deepEqual(paths(await collect(s.listFiles('.', { recursive: true }))), ['d/inner.txt', 'top.txt']);
  });

  it('listFolders yields immediate sub-folders', async (t, s) => {
    await s.write('lfd/sub1/a.txt', 'a');
    await s.write('lfd/sub2/b.txt', 'b');
    await s.write('lfd/sub2/deep/c.txt', 'c');
    await s.write('lfd/file.txt', 'f');
    const folders = await collect(s.listFolders('lfd'));
    t.deepEqual(names(folders), ['sub1', 'sub2']);
    t.deepEqual(paths(folders), ['lfd/sub1', 'lfd/sub2']);
  });

  it('listFolders with maxDepth adds deeper levels; pattern filters what is yielded', async (t, s) => {
    await s.write('lfd/s1/g1/a.txt', 'a');
    await s.write('lfd/s2/x/b.txt', 'b');
    t.deepEqual(paths(await collect(s.listFolders('lfd', { maxDepth: 1 }))), ['lfd/s1', 'lfd/s1/g1', 'lfd/s2', 'lfd/s2/x']);
    t.deepEqual(paths(await collect(s.listFolders('lfd', { maxDepth: 1, pattern: 'g*' }))), ['lfd/s1/g1']);
  });

  it('iterChildren yields files and folders in one pass', async (t, s) => {
    await s.write('ic/a.txt', 'a');
    await s.write('ic/b.txt', 'b');
    await s.write('ic/sub/c.txt', 'c');
    const children = await collect(s.iterChildren('ic'));
    t.deepEqual(names(children.filter((c) => c.kind === 'file')), ['a.txt', 'b.txt']);
    const folders = children.filter((c) => c.kind === 'folder');
    t.deepEqual(paths(folders), ['ic/sub']);
    const file = children.find((c) => c.name === 'a.txt');
    t.is(file?.kind === 'file' ? file.size : -1, 1);
  });

  it('glob matches whole keys with *, ?, classes and **', async (t, s) => {
    for (const p of ['g/a.txt', 'g/b.csv', 'g/sub/c.txt', 'gr/a.txt', 'gr/sub/b.txt', 'gr/sub/x/c.csv', 'gf/1', 'gf/d/2', 'gf/d/e/3']) {
      await s.write(p, p);
    }
    t.deepEqual(paths(await collect(s.glob('g/*.txt'))), ['g/a.txt']);
    t.deepEqual(paths(await collect(s.glob('gr/**/*.txt'))), ['gr/a.txt', 'gr/sub/b.txt']);
    const all = await collect(s.glob('gf/**/*'));
    t.is(all.length, 3);
    t.true(all.every((f) => f.path.startsWith('gf/')));
    t.deepEqual(paths(await collect(s.glob('g/?.csv'))), ['g/b.csv']);
    t.deepEqual(paths(await collect(s.glob('g/[!a].*'))), ['g/b.csv']);
    t.deepEqual(paths(await collect(s.glob('*/sub/*.txt'))), ['g/sub/c.txt', 'gr/sub/b.txt']);
  });

  it('glob under a root with wildcard characters matches only below that root', async (t, s) => {
    await s.write('data[1]/a.txt', 'a');
    await s.write('data1/b.txt', 'b');
    t.deepEqual(paths(await collect(s.child('data[1]').glob('*.txt'))), ['a.txt']);
  });

  it("a glob with '**' glued to text is a RangeError", async (t, s) => {
    await expectError(t, () => s.glob('a/**error'), RangeError);
  });

  it("an empty glob is a TypeError naming glob, and one with a '..' segment InvalidPath, on every backend", async (t, s) => {
    await s.write('g/f.txt', 'f');
    const empty = await expectError(t, () => s.glob(''), TypeError);
    t.regex(empty.message, /^glob: pattern/);
    await expectError(t, () => s.glob('../*'), InvalidPath, '../*');
    await expectError(t, () => s.child('g').glob('../g/*'), InvalidPath, '../g/*');
    const range = await expectError(t, () => s.readRange('g/f.txt', { offset: 0, length: 2 ** 60 }), RangeError);
    t.regex(range.message, /'length' must be from 0 to 9007199254740991/);
  });

  // ---------------------------------------------------------------- move / copy
  it('move moves the content', async (t, s) => {
    await s.write('mv/src.txt', 'payload');
    await s.move('mv/src.txt', 'mv2/dst.txt');
    t.false(await s.exists('mv/src.txt'));
    t.is(await s.readText('mv2/dst.txt'), 'payload');
  });

  it('copy keeps both files', async (t, s) => {
    await s.write('cp/src.txt', 'payload');
    await s.copy('cp/src.txt', 'cp/deep/dst.txt');
    t.is(await s.readText('cp/src.txt'), 'payload');
    t.is(await s.readText('cp/deep/dst.txt'), 'payload');
  });

  it('a missing source raises NotFound, before any destination problem', async (t, s) => {
    await s.write('blocker.txt', 'b');
    await s.write('exists.txt', 'e');
    await expectError(t, () => s.move('missing.txt', 'dst.txt'), NotFound, 'missing.txt');
    await expectError(t, () => s.copy('missing.txt', 'dst.txt'), NotFound, 'missing.txt');
    await expectError(t, () => s.move('missing.txt', 'blocker.txt/dst'), NotFound, 'missing.txt');
    await expectError(t, () => s.copy('missing.txt', 'exists.txt'), NotFound, 'missing.txt');
  });

  it('an existing destination needs overwrite', async (t, s) => {
    await s.write('src.txt', 'new');
    await s.write('dst.txt', 'old');
    await expectError(t, () => s.move('src.txt', 'dst.txt'), AlreadyExists, 'dst.txt');
    await expectError(t, () => s.copy('src.txt', 'dst.txt'), AlreadyExists, 'dst.txt');
    t.is(await s.readText('dst.txt'), 'old');
    await s.copy('src.txt', 'dst.txt', { overwrite: true });
    t.is(await s.readText('dst.txt'), 'new');
    t.true(await s.exists('src.txt'));
    await s.write('src.txt', 'newer', { overwrite: true });
    await s.move('src.txt', 'dst.txt', { overwrite: true });
    t.is(await s.readText('dst.txt'), 'newer');
    t.false(await s.exists('src.txt'));
  });

  it('a folder as source raises InvalidPath naming it', async (t, s) => {
    await s.write('srcdir/a.txt', 'a');
    await expectError(t, () => s.move('srcdir', 'x'), InvalidPath, 'srcdir');
    await expectError(t, () => s.copy('srcdir', 'x'), InvalidPath, 'srcdir');
    t.true(await s.exists('srcdir/a.txt'));
  });

  if (hier) {
    it('a tree thousands of folders deep lists, globs, aggregates and deletes like a shallow one', async (t, s) => {
      // Recursive walks overflowed the call stack at 2,000 levels (local) and 5,000 (memory).
      const depth = Math.min(6000, Math.floor(((target.maxPathLength ?? Infinity) - 10) / 2));
      const deep = `${'d/'.repeat(depth)}f.txt`;
      await s.write(deep, 'deep');
      await s.write('d/top.txt', 'top');
      t.deepEqual(paths(await collect(s.listFiles('', { recursive: true }))), [deep, 'd/top.txt'].sort());
      t.deepEqual(paths(await collect(s.listFiles('', { maxDepth: depth }))), [deep, 'd/top.txt'].sort());
      t.deepEqual(paths(await collect(s.glob('**/f.txt'))), [deep]);
      t.is((await s.getFolderInfo('d')).fileCount, 2);
      t.is((await collect(s.listFolders('', { maxDepth: depth }))).length, depth);
      await s.deleteFolder('d', { recursive: true });
      t.deepEqual(await collect(s.listFiles('', { recursive: true })), []);
    });
  }

  if (hier) {
    it('an existing folder as destination raises InvalidPath naming it', async (t, s) => {
      await s.write('f.txt', 'f');
      await s.write('dstdir/a.txt', 'a');
      await expectError(t, () => s.move('f.txt', 'dstdir', { overwrite: true }), InvalidPath, 'dstdir');
      await expectError(t, () => s.copy('f.txt', 'dstdir'), InvalidPath, 'dstdir');
      t.true(await s.exists('f.txt'));
    });
  }

  if (strict) {
    it('a destination under a file ancestor raises InvalidPath and changes nothing', async (t, s) => {
      await s.write('src.txt', 's');
      await s.write('blocker.txt', 'b');
      await expectError(t, () => s.move('src.txt', 'blocker.txt/dst'), InvalidPath);
      await expectError(t, () => s.copy('src.txt', 'blocker.txt/dst'), InvalidPath);
      t.is(await s.readText('blocker.txt'), 'b');
      t.is(await s.readText('src.txt'), 's');
    });
  }

  it('keys with characters that XML or URLs change list, read and delete as written', async (t, s) => {
    const keys = ['k/sp ace.txt', 'k/plus+.txt', 'k/pct%41.txt', 'k/é€😀.txt', 'k/amp&lt;.txt', 'k/tab\t.txt', 'k/q?#.txt', 'k/cr\r.txt'];
    const written = target.listsEncodedKeys === false ? keys.slice(0, -1) : keys;
    for (const key of written) await s.write(key, key);
    const listed = paths(await collect(s.listFiles('k', { recursive: true })));
    t.deepEqual(listed, [...written].sort());
    for (const key of listed) t.is(await s.readText(key), key);
    t.deepEqual(names(await collect(s.glob('k/*'))), written.map((k) => k.slice(2)).sort());
    await s.deleteFolder('k', { recursive: true });
    for (const key of written) t.false(await s.exists(key), JSON.stringify(key));
  });

  it('moving or copying a file onto itself changes nothing', async (t, s) => {
    await s.write('self.txt', 'same');
    await s.move('self.txt', 'self.txt');
    await s.copy('self.txt', './self.txt');
    await s.move('self.txt', 'self.txt', { overwrite: true });
    t.is(await s.readText('self.txt'), 'same');
    await expectError(t, () => s.move('ghost.txt', 'ghost.txt'), NotFound, 'ghost.txt');
    await expectError(t, () => s.copy('ghost.txt', 'ghost.txt'), NotFound, 'ghost.txt');
  });

  if (hier) {
    it('moving a folder onto itself raises InvalidPath', async (t, s) => {
      await s.write('sd/a.txt', 'a');
      await expectError(t, () => s.move('sd', 'sd'), InvalidPath, 'sd');
    });
  }

  // ---------------------------------------------------------------- metadata
  it('getFileInfo describes the file', async (t, s) => {
    const before = Date.now();
    await s.write('info/info.txt', 'hello world');
    const info = await s.getFileInfo('info/info.txt');
    t.is(info.name, 'info.txt');
    t.is(info.path, 'info/info.txt');
    t.is(info.size, 11);
    t.true(info.modifiedAt instanceof Date);
    t.true(Math.abs(info.modifiedAt.getTime() - before) < 60_000);
  });

  it('getFileInfo and getFolderInfo refuse the wrong kind and missing paths', async (t, s) => {
    await s.write('fi/a.txt', 'abc');
    await expectError(t, () => s.getFileInfo('fi'), InvalidPath, 'fi');
    await expectError(t, () => s.getFolderInfo('fi/a.txt'), InvalidPath, 'fi/a.txt');
    await expectError(t, () => s.getFileInfo('nope.txt'), NotFound, 'nope.txt');
    await expectError(t, () => s.getFolderInfo('nope'), NotFound, 'nope');
    await expectError(t, () => s.getFolderInfo('nope', { maxDepth: 1 }), NotFound, 'nope');
  });

  it('getFolderInfo aggregates the subtree', async (t, s) => {
    await s.write('fi/a.txt', 'abc');
    await s.write('fi/b.txt', 'de');
    await s.write('fi/sub/c.txt', 'f');
    const info = await s.getFolderInfo('fi');
    t.is(info.path, 'fi');
    t.is(info.fileCount, 3);
    t.is(info.totalSize, 6);
    t.true(info.modifiedAt instanceof Date);
  });

  it('getFolderInfo with maxDepth counts only files within the depth', async (t, s) => {
    await depthTree(s);
    const shallow = await s.getFolderInfo('pc', { maxDepth: 0 });
    t.is(shallow.fileCount, 1);
    const mid = await s.getFolderInfo('pc', { maxDepth: 1 });
    t.is(mid.fileCount, 3);
  });

  it('head builds a sidecar WriteResult from the file info', async (t, s) => {
    await s.write('h.txt', 'head');
    const head = await s.head('h.txt');
    t.is(head.source, 'sidecar');
    t.is(head.size, 4);
    t.is(head.path, 'h.txt');
    t.true(head.lastModified instanceof Date);
  });

  it('exists, isFile and isFolder follow writes and deletes', async (t, s) => {
    t.false(await s.exists('e/a.txt'));
    await s.write('e/a.txt', 'a');
    t.true(await s.exists('e/a.txt'));
    t.true(await s.isFile('e/a.txt'));
    t.false(await s.isFolder('e/a.txt'));
    t.true(await s.isFolder('e'));
    t.false(await s.isFile('e'));
    await s.delete('e/a.txt');
    t.false(await s.exists('e/a.txt'));
    t.false(await s.isFile('nope'));
    t.false(await s.isFolder('nope'));
  });

  // ---------------------------------------------------------------- store layer
  it('a child store confines paths under its prefix and returns relative paths', async (t, s) => {
    const child = s.child('data');
    const result = await child.write('hello.txt', 'hi');
    t.is(result.path, 'hello.txt');
    t.is(await s.readText('data/hello.txt'), 'hi');
    t.deepEqual(paths(await collect(child.listFiles(''))), ['hello.txt']);
    t.is((await child.getFileInfo('hello.txt')).path, 'hello.txt');
    const err = await expectError(t, () => child.readBytes('missing.txt'), NotFound);
    t.is(err.path, 'missing.txt');
    await expectError(t, () => child.read('../hello.txt'), InvalidPath);
  });

  it('child() refuses empty, dot-dot and NUL sub-paths', async (t, s) => {
    await expectError(t, () => s.child(''), InvalidPath);
    await expectError(t, () => s.child('a/../b'), InvalidPath);
    await expectError(t, () => s.child('a\0'), InvalidPath);
  });

  it('a child store does not close the shared backend', async (t, s) => {
    const child = s.child('c');
    await child.write('x.txt', 'x');
    await child.close();
    t.is(await s.readText('c/x.txt'), 'x');
    t.is(await child.readText('x.txt'), 'x');
  });

  it('nativePath and toKey are inverses; a foreign path is InvalidPath', async (t, s) => {
    const child = s.child('pre');
    t.is(child.toKey(child.nativePath('some/key')), 'some/key');
    t.is(child.toKey(child.nativePath('')), '');
    t.is(typeof s.nativePath(''), 'string');
    await expectError(t, () => child.toKey(s.nativePath('elsewhere/key')), InvalidPath);
  });

  it('stores on the same backend and root are equal', async (t, s) => {
    t.true(s.child('a').equals(s.child('a')));
    t.false(s.child('a').equals(s.child('b')));
    t.true(String(s).includes(s.backend.name));
  });

  it('capabilities are a CapabilitySet and gates match supports()', async (t, s) => {
    t.true(s.capabilities instanceof CapabilitySet);
    for (const cap of Object.values(Capability)) t.is(s.supports(cap), s.capabilities.supports(cap));
    t.false(s.supports(Capability.ATOMIC_MOVE) && !target.hierarchical);
    t.true(s.supports(Capability.READ) && s.supports(Capability.WRITE) && s.supports(Capability.LIST));
  });

  it('unwrap of an unknown type raises CapabilityNotSupported', async (t, s) => {
    const err = await expectError(t, () => s.unwrap(String), CapabilityNotSupported);
    t.is(err.capability, 'unwrap');
  });

  it('errors carry code, path and backend and are RemoteStoreErrors', async (t, s) => {
    const err = await expectError(t, () => s.readBytes('missing/x.txt'), NotFound, 'missing/x.txt');
    t.true(err instanceof RemoteStoreError);
    t.is(err.code, 'NOT_FOUND');
    t.is(err.backend, s.backend.name);
    t.is(JSON.parse(JSON.stringify(err)).code, 'NOT_FOUND');
  });

  it('no credential shows in the store, its backend or their JSON', async (t, s) => {
    assertNoSecret(t, s);
    assertNoSecret(t, s.backend);
    assertNoSecret(t, s.child('x'));
    t.true(inspect(s.backend, { depth: 8 }).length > 0);
  });

  it('ping succeeds on a working store', async (t, s) => {
    await s.write('p.txt', 'p');
    await t.notThrowsAsync(() => s.ping());
  });

  // ---------------------------------------------------------------- lifecycle
  it('close is idempotent and follows the backend posture', async (t, s) => {
    await s.write('life.txt', 'x');
    await s.close();
    await s.close();
    if (target.terminalClose) {
      const err = await expectError(t, () => s.exists('life.txt'), BackendUnavailable);
      t.true(err.message.includes('is closed'));
      await expectError(t, () => s.readBytes(''), BackendUnavailable);
      await expectError(t, () => s.write('.', 'x'), BackendUnavailable);
      await expectError(t, () => s.isFolder(''), BackendUnavailable);
    } else {
      t.true(await s.exists('life.txt'));
      await expectError(t, () => s.write('.', 'x'), InvalidPath);
    }
  });

  it('await using closes an owning store', async (t, s) => {
    await s.write('dispose.txt', 'x');
    await s[Symbol.asyncDispose]();
    if (target.terminalClose) await expectError(t, () => s.exists('dispose.txt'), BackendUnavailable);
    else t.true(await s.exists('dispose.txt'));
  });

  // ---------------------------------------------------------------- concurrency
  it('concurrent reads each get the right content', async (t, s) => {
    await Promise.all(Array.from({ length: 8 }, (_, i) => s.write(`cr/${i}.txt`, `content-${i}`)));
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => s.readText(`cr/${i % 8}.txt`)));
    t.deepEqual(results, Array.from({ length: 16 }, (_, i) => `content-${i % 8}`));
  });

  it('concurrent writes to distinct keys all land and read back', async (t, s) => {
    await Promise.all(
      Array.from({ length: 16 }, async (_, i) => {
        await s.write(`cw/${i}.bin`, Buffer.alloc(1000 + i, i));
        t.deepEqual(await s.readBytes(`cw/${i}.bin`), Buffer.alloc(1000 + i, i));
      }),
    );
    t.is((await collect(s.listFiles('cw'))).length, 16);
  });

  if (target.atomicCreate !== false) it('concurrent writes to one new key with overwrite false: exactly one wins', async (t, s) => {
    const outcomes = await Promise.allSettled(Array.from({ length: 16 }, (_, i) => s.write('race.txt', `writer-${i}`)));
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    t.is(won.length, 1);
    t.is(lost.length, 15);
    t.true(lost.every((o) => o.reason instanceof AlreadyExists));
    t.regex(await s.readText('race.txt'), /^writer-\d+$/);
  });
}
