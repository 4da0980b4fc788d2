import test from 'ava';
import fc from 'fast-check';
import { lstat, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { InvalidPath, LocalBackend, MemoryBackend, NotFound, RemoteStoreError, Store } from '../src/index';
import { normalizeFolderPath } from '../src/path';
import { tempDir } from './support/tmp';

/** Path-like strings made of the characters that matter: separators, dots, NUL, letters, surrogates alone and paired. */
const pathArb = fc
  .array(fc.constantFrom('a', 'b', '.', '..', '/', '\\', '\0', ' ', 'é', '~', 'x.txt', '', '\uD83D', '\uDE00', '\uD83D\uDE00'), { maxLength: 8 })
  .map((parts) => parts.join(''));

test('normalised paths never contain .. or empty segments (property)', (t) => {
  fc.assert(
    fc.property(pathArb, (raw) => {
      try {
        const key = normalizeFolderPath(raw);
        return (
          !key.split('/').some((s) => s === '..' || s === '.') &&
          !key.includes('//') &&
          !key.startsWith('/') &&
          !key.includes('\0') &&
          Buffer.from(key, 'utf8').toString('utf8') === key
        );
      } catch (err) {
        return err instanceof InvalidPath;
      }
    }),
    { numRuns: 2000 },
  );

  t.is(normalizeFolderPath('\\a\\\\b/./c/'), 'a/b/c');
});

test('an unpaired surrogate is refused on every backend: UTF-8 would make two such paths one file', async (t) => {
  const { dir, remove } = await tempDir();
  try {
    for (const store of [new Store(new LocalBackend({ root: dir })), new Store(new MemoryBackend())]) {
      for (const raw of ['bad\uD800name.txt', 'bad\uDC00name.txt', 'a/\uDE00\uD83D.txt']) {
        const err = await t.throwsAsync(() => store.write(raw, 'x'), { instanceOf: InvalidPath, message: /unpaired surrogate/ });
        t.is(err?.path, raw);
      }
      await store.write('ok\uD83D\uDE00.txt', 'x');
      t.deepEqual((await store.listFiles('')[Symbol.asyncIterator]().next()).value?.path, 'ok\uD83D\uDE00.txt');
    }
  } finally {
    await remove();
  }
});

test('no generated path escapes a local store root or raises anything but our errors (property)', async (t) => {
  const { dir, remove } = await tempDir();
  try {
    const outside = path.join(dir, 'outside');
    const root = path.join(dir, 'root');
    await mkdir(outside);
    await mkdir(root);
    const store = new Store(new LocalBackend({ root }));
    await fc.assert(
      fc.asyncProperty(pathArb, async (raw) => {
        try {
          await store.write(raw, 'x', { overwrite: true });
          await store.readBytes(raw);
          await store.exists(raw);
        } catch (err) {
          if (!(err instanceof RemoteStoreError)) throw err;
        }
      }),
      { numRuns: 300 },
    );
    t.deepEqual(await readdir(outside), []);
    t.deepEqual(await readdir(dir), ['outside', 'root']);
  } finally {
    await remove();
  }
});

test('a memory store answers every generated path with a value or one of our errors (property)', async (t) => {
  const store = new Store(new MemoryBackend());
  let accepted = 0;
  await fc.assert(
    fc.asyncProperty(pathArb, fc.constantFrom('write', 'read', 'delete', 'list', 'info'), async (raw, op) => {
      try {
        if (op === 'write') await store.write(raw, 'x', { overwrite: true });
        else if (op === 'read') await store.readBytes(raw);
        else if (op === 'delete') await store.delete(raw, { missingOk: true });
        else if (op === 'list') for await (const _ of store.listFiles(raw, { recursive: true }));
        else await store.getFileInfo(raw);
        accepted++;
      } catch (err) {
        if (!(err instanceof RemoteStoreError)) throw err;
      }
    }),
    { numRuns: 1000 },
  );
  t.true(accepted > 0);
});

test('a symlink pointing outside the root cannot be read, written or listed through', async (t) => {
  const { dir, remove } = await tempDir();
  try {
    const root = path.join(dir, 'root');
    const outside = path.join(dir, 'outside');
    await mkdir(root);
    await mkdir(outside);
    await writeFile(path.join(outside, 'secret.txt'), 'outside data');
    await symlink(outside, path.join(root, 'link'));
    await symlink(path.join(outside, 'secret.txt'), path.join(root, 'file-link'));
    const store = new Store(new LocalBackend({ root }));
    await t.throwsAsync(() => store.readBytes('link/secret.txt'), { instanceOf: InvalidPath });
    await t.throwsAsync(() => store.readBytes('file-link'), { instanceOf: InvalidPath });
    await t.throwsAsync(() => store.write('link/new.txt', 'x'), { instanceOf: InvalidPath });
    await t.throwsAsync(() => store.delete('file-link'), { instanceOf: InvalidPath });
    const listed: string[] = [];
    for await (const f of store.listFiles('', { recursive: true })) listed.push(f.path);
    t.deepEqual(listed, []);
    t.deepEqual(await readdir(outside), ['secret.txt']);
    await t.throwsAsync(() => store.readBytes('missing'), { instanceOf: NotFound });
  } finally {
    await remove();
  }
});

test('a (relative) symlink inside the root works like its target', async (t) => {
  const { dir, remove } = await tempDir();
  try {
    await mkdir(path.join(dir, 'real'));
    await writeFile(path.join(dir, 'real', 'a.txt'), 'inside');
    // Absolute targets are refused (see local-confinement.spec.ts and LocalBackend's docs).
    await symlink('real', path.join(dir, 'alias'));
    await symlink('a.txt', path.join(dir, 'real', 'b.txt'));
    const store = new Store(new LocalBackend({ root: dir }));
    t.is(await store.readText('alias/a.txt'), 'inside');
    t.is(await store.readText('real/b.txt'), 'inside');
    // Writes go beneath a linked folder; a write to a link of a file replaces the link (docs/local.md).
    await store.write('alias/new.txt', 'through');
    t.is(await readFile(path.join(dir, 'real', 'new.txt'), 'utf8'), 'through');
    await store.write('real/b.txt', 'replaced', { overwrite: true });
    t.false((await lstat(path.join(dir, 'real', 'b.txt'))).isSymbolicLink());
    t.is(await readFile(path.join(dir, 'real', 'a.txt'), 'utf8'), 'inside');
  } finally {
    await remove();
  }
});
