/**
 * The local backend under attack: folders swapped for symlinks while operations run, links
 * out of the root through the native data path (Parquet, unwrap(NativeObjectStore)), and
 * aborted writes. Nothing may land outside the root, every failure is one of our error
 * classes, and an aborted write commits nothing.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { watch } from 'node:fs';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import * as A from 'apache-arrow';
import {
  AbortError,
  AlreadyExists,
  BackendUnavailable,
  InvalidPath,
  LocalBackend,
  NativeObjectStore,
  NotFound,
  readParquet,
  Store,
  writeParquet,
} from '../src/index';
import { tempDir } from './support/tmp';

/** `dir/root` (the store) and `dir/outside` (holding `secret.txt`). */
async function rootAndOutside(t: { teardown(fn: () => unknown): void }) {
  const { dir, remove } = await tempDir('rs-confine-');
  t.teardown(remove);
  const root = path.join(dir, 'root');
  const outside = path.join(dir, 'outside');
  await mkdir(root);
  await mkdir(outside);
  await writeFile(path.join(outside, 'secret.txt'), 'outside data');
  const store = new Store(new LocalBackend({ root }));
  return { dir, root, outside, store };
}

/** Every name under `dir`, recursively, temp files included. */
async function tree(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String).sort();
}

/**
 * A separate process that swaps `target` between a folder and a symlink to `outside` as
 * fast as it can, until killed.
 */
function startSwapper(target: string, outside: string) {
  const code = `
    const fs = require('node:fs');
    const [target, outside] = process.argv.slice(1);
    for (;;) {
      try { fs.rmSync(target, { recursive: true, force: true }); } catch {}
      try { fs.symlinkSync(outside, target); } catch {}
      try { fs.unlinkSync(target); } catch {}
      try { fs.mkdirSync(target); } catch {}
    }`;
  const child = spawn(process.execPath, ['-e', code, target, outside], { stdio: 'ignore' });
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

const TYPED = [NotFound, InvalidPath, AlreadyExists, AbortError];

test('folders swapped for symlinks out of the root while writes, reads, moves and deletes run: nothing escapes, every error is ours', async (t) => {
  const { root, outside, store } = await rootAndOutside(t);
  // Anything created in `outside` (even if removed again later) is an escape.
  const seen = new Set<string>();
  const watcher = watch(outside, (_event, name) => {
    if (name && name !== 'secret.txt') seen.add(String(name));
  });
  t.teardown(() => watcher.close());
  const swapper = startSwapper(path.join(root, 'swap'), outside);
  const untyped: unknown[] = [];
  const counts = { ok: 0, failed: 0 };
  const attempt = async (op: () => Promise<unknown>) => {
    try {
      await op();
      counts.ok++;
    } catch (err) {
      counts.failed++;
      if (!TYPED.some((type) => err instanceof type)) untyped.push(err);
    }
  };
  try {
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (let i = 0; i < 120; i++) {
          const key = `swap/w${w}/f${i}.txt`;
          const other = `swap/m${w}-${i}.txt`;
          await attempt(() => store.write(key, `data ${w} ${i}`, { overwrite: i % 2 === 0 }));
          await attempt(() => store.writeAtomic(`swap/a${w}-${i}.bin`, Readable.from([Buffer.alloc(64 * 1024, w)])));
          await attempt(() => store.readBytes(key));
          await attempt(async () => {
            for await (const _ of await store.read(key));
          });
          await attempt(() => store.move(key, other, { overwrite: i % 3 === 0 }));
          await attempt(() => store.copy(other, `swap/c${w}/f${i}.txt`, { overwrite: true }));
          await attempt(() => store.getFileInfo(other));
          await attempt(async () => {
            for await (const _ of store.listFiles('swap', { recursive: true }));
          });
          await attempt(() => store.delete(other, { missingOk: true }));
          await attempt(() => store.deleteFolder(`swap/c${w}`, { recursive: true, missingOk: true }));
        }
      }),
    );
  } finally {
    await swapper.stop();
  }
  t.true(counts.ok > 0 && counts.failed > 0, `the swaps raced the operations (${counts.ok} ok, ${counts.failed} failed)`);
  t.deepEqual(untyped.map((e) => `${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`), []);
  t.deepEqual(await tree(outside), ['secret.txt']);
  t.deepEqual([...seen], []);
  t.is(await readFile(path.join(outside, 'secret.txt'), 'utf8'), 'outside data');
});

test('the native data path refuses symlinks out of the root: get, head, readParquet', async (t) => {
  const { root, outside, store } = await rootAndOutside(t);
  const table = new A.Table({ id: A.vectorFromArray([1, 2, 3], new A.Int32()) });
  const outsideStore = new Store(new LocalBackend({ root: outside }));
  await writeParquet(outsideStore, 'data.parquet', table);
  await symlink(outside, path.join(root, 'link'));
  await symlink(path.join(outside, 'secret.txt'), path.join(root, 'file-link'));
  await symlink('../outside/data.parquet', path.join(root, 'rel.parquet'));
  const native = store.unwrap(NativeObjectStore);
  for (const key of ['link/secret.txt', 'file-link', 'rel.parquet']) {
    await t.throwsAsync(() => native.get(key), { instanceOf: InvalidPath }, key);
    await t.throwsAsync(() => native.head(key), { instanceOf: InvalidPath }, key);
  }
  await t.throwsAsync(() => native.put('link/new.txt', 'x'), { instanceOf: InvalidPath });
  for (const key of ['link/data.parquet', 'rel.parquet']) {
    const err = await t.throwsAsync(() => readParquet(store, key), { instanceOf: InvalidPath }, key);
    t.false(err!.message.includes(outside), err!.message);
  }
  await t.throwsAsync(() => writeParquet(store, 'link/out.parquet', table), { instanceOf: InvalidPath });
  t.deepEqual(await tree(outside), ['data.parquet', 'secret.txt']);
});

test('symlinks that stay inside the root work like their target; absolute ones are refused; walks do not descend into links', async (t) => {
  const { root, store } = await rootAndOutside(t);
  await store.write('real/a.txt', 'inside');
  await symlink('real', path.join(root, 'alias'));
  await symlink('../real/a.txt', path.join(root, 'real-file-up'));
  await symlink(path.join(root, 'real'), path.join(root, 'absolute'));
  await symlink('..', path.join(root, 'real', 'loop'));
  t.is(await store.readText('alias/a.txt'), 'inside');
  t.true(await store.isFolder('alias'));
  await t.throwsAsync(() => store.readText('real-file-up'), { instanceOf: InvalidPath }); // ../ from root leaves it
  await t.throwsAsync(() => store.readText('absolute/a.txt'), { instanceOf: InvalidPath });
  await store.write('alias/b.txt', 'through the link');
  t.is(await readFile(path.join(root, 'real', 'b.txt'), 'utf8'), 'through the link');
  const files: string[] = [];
  for await (const f of store.listFiles('', { recursive: true })) files.push(f.path);
  t.deepEqual(files, ['real/a.txt', 'real/b.txt']);
  const folders: string[] = [];
  for await (const f of store.listFolders('')) folders.push(f.path);
  t.deepEqual(folders, ['alias', 'real']);
  const viaAlias: string[] = [];
  for await (const f of store.listFiles('alias')) viaAlias.push(f.path);
  t.deepEqual(viaAlias, ['alias/a.txt', 'alias/b.txt']);
});

test('a 100 MiB buffer write aborted while it runs commits nothing and leaves no temp file', async (t) => {
  const { root, store } = await rootAndOutside(t);
  const data = Buffer.alloc(100 * 1024 * 1024, 7);
  // 1 ms: surely while the bytes are still being written. 100 ms (the case): while
  // they are flushed or committed on a slow disk, or after the write finished on a fast one.
  for (const delay of [1, 100]) {
    const key = `big-${delay}.bin`;
    const controller = new AbortController();
    let settled = false;
    let abortedFirst = false;
    const timer = setTimeout(() => {
      abortedFirst = !settled;
      controller.abort();
    }, delay);
    const outcome = await store.write(key, data, { signal: controller.signal }).then(
      () => 'committed',
      (err: unknown) => err,
    );
    settled = true;
    clearTimeout(timer);
    if (outcome === 'committed') {
      t.not(delay, 1, 'a write aborted 1 ms in must not commit');
      t.false(abortedFirst, `the write aborted at ${delay} ms resolved after the abort`);
      t.is((await store.getFileInfo(key)).size, data.length);
    } else {
      t.true(outcome instanceof AbortError, String(outcome));
      t.false(await store.exists(key));
    }
    t.deepEqual((await tree(root)).filter((name) => name.startsWith('.~rs-tmp.')), []);
  }
});

test('an abort after the last byte and before the commit commits nothing (signal checked right before the commit)', async (t) => {
  const { root, store } = await rootAndOutside(t);
  await store.write('kept.bin', 'old');
  for (const [key, overwrite] of [['new.bin', false], ['kept.bin', true]] as const) {
    const controller = new AbortController();
    const onProgress = ({ bytes }: { bytes: number }) => {
      if (bytes === 4 * 1024 * 1024) controller.abort();
    };
    await t.throwsAsync(() => store.write(key, Buffer.alloc(4 * 1024 * 1024, 1), { overwrite, signal: controller.signal, onProgress }), {
      instanceOf: AbortError,
    });
  }
  t.deepEqual(await tree(root), ['kept.bin']);
  t.is(await store.readText('kept.bin'), 'old');
});

test('errors from links out of the root name the store key, never the outside path', async (t) => {
  const { root, outside, store } = await rootAndOutside(t);
  await symlink(outside, path.join(root, 'link'));
  for (const op of [() => store.readBytes('link/secret.txt'), () => store.write('link/x/y.txt', 'x'), () => store.exists('link/secret.txt')]) {
    const err = await t.throwsAsync(op, { instanceOf: InvalidPath });
    t.true(err!.path?.startsWith('link/'), err!.path);
    t.false(err!.message.includes(outside), err!.message);
    t.true(err!.message.includes("'link/"), err!.message);
  }
});

test('without the native addon the local backend fails with BackendUnavailable, saying why', async (t) => {
  const { dir, remove } = await tempDir('rs-noaddon-');
  t.teardown(remove);
  // A process in which the addon's loader fails, as on a platform without a prebuilt binary.
  const script = `
    const Module = require('node:module');
    const load = Module._load;
    Module._load = function (request, ...rest) {
      if (String(request).endsWith('native/binding.js')) throw new Error('no prebuilt binary for this platform');
      return load.call(this, request, ...rest);
    };
    const { Store, LocalBackend, BackendUnavailable } = require(${JSON.stringify(path.join(__dirname, '..', 'src', 'index.ts'))});
    const store = new Store(new LocalBackend({ root: ${JSON.stringify(dir)} }));
    store.write('a.txt', 'x').then(
      () => console.log('resolved'),
      (err) => console.log(JSON.stringify({ unavailable: err instanceof BackendUnavailable, backend: err.backend, message: err.message })),
    );`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  await new Promise((resolve) => child.once('close', resolve));
  const result = JSON.parse(out.trim());
  t.true(result.unavailable, out);
  t.is(result.backend, 'local');
  t.regex(result.message, /local backend needs the native addon.*no prebuilt binary for this platform/);
  t.deepEqual(await readdir(dir), []);
});

test('a root that is a file fails every call with BackendUnavailable naming it, reads included', async (t) => {
  const { dir, remove } = await tempDir('rs-rootfile-');
  t.teardown(remove);
  const file = path.join(dir, 'afile');
  await writeFile(file, 'x');
  for (const root of [file, path.join(file, 'below')]) {
    const store = new Store(new LocalBackend({ root }));
    const calls: Array<() => Promise<unknown>> = [
      () => store.write('k.txt', 'y'),
      () => store.exists('k.txt'),
      () => store.readBytes('k.txt'),
      async () => store.listFiles('')[Symbol.asyncIterator]().next(),
    ];
    for (const call of calls) {
      const err = await t.throwsAsync(call, { instanceOf: BackendUnavailable });
      t.regex(err!.message, /afile/);
    }
  }
  t.is(await readFile(file, 'utf8'), 'x');
});
