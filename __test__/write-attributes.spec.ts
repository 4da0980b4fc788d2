/**
 * Write attributes and presigned URLs off S3 (DESIGN §8 "Writes"): memory keeps the attributes
 * (a stand-in for an object store), local refuses them, neither presigns; both refuse before
 * any I/O. The S3 backends are checked on a real server in s3/write-attributes.spec.ts.
 */
import test from 'ava';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Capability, CapabilityNotSupported, LocalBackend, MemoryBackend, Store } from '../src/index';

const ATTRS = { contentType: 'text/csv', cacheControl: 'no-cache', contentDisposition: 'inline', contentEncoding: 'identity', storageClass: 'STANDARD_IA' };

test('memory keeps the write attributes: getFileInfo reports the content type, copies and moves keep it', async (t) => {
  const store = new Store(new MemoryBackend());
  t.true(store.supports(Capability.WRITE_ATTRIBUTES));
  t.false(store.supports(Capability.PRESIGN));
  await store.write('a.csv', 'a,b', ATTRS);
  await store.openAtomic('b.csv', { contentType: 'text/plain' }, (w) => void w.write('b'));
  await store.write('none.bin', 'x');
  t.is((await store.getFileInfo('a.csv')).contentType, 'text/csv');
  t.is((await store.getFileInfo('b.csv')).contentType, 'text/plain');
  t.is((await store.getFileInfo('none.bin')).contentType, undefined);
  await store.copy('a.csv', 'c.csv');
  await store.move('c.csv', 'd.csv');
  t.is((await store.getFileInfo('d.csv')).contentType, 'text/csv');
  await t.throwsAsync(store.presign('a.csv'), { instanceOf: CapabilityNotSupported, message: /'presign'/ });
  await t.throwsAsync(store.presign('a.csv', { expiresin: 60 } as object), { instanceOf: TypeError, message: /presign: unknown option 'expiresin'/ });
});

test('local refuses write attributes and presign before any I/O, naming the capability', async (t) => {
  const root = mkdtempSync(path.join(tmpdir(), 'rs-attrs-'));
  const store = new Store(new LocalBackend({ root }));
  t.teardown(() => store.close());
  t.false(store.supports(Capability.WRITE_ATTRIBUTES));
  for (const [name, value] of Object.entries(ATTRS)) {
    const err = await t.throwsAsync(store.write('a.csv', 'x', { [name]: value }), { instanceOf: CapabilityNotSupported });
    t.is(err!.capability, Capability.WRITE_ATTRIBUTES);
  }
  await t.throwsAsync(store.writeAtomic('a.csv', 'x', { contentType: 'text/csv' }), { instanceOf: CapabilityNotSupported });
  await t.throwsAsync(store.openAtomic('a.csv', { contentType: 'text/csv' }, () => undefined), { instanceOf: CapabilityNotSupported });
  const err = await t.throwsAsync(store.presign('a.csv', { method: 'PUT' }), { instanceOf: CapabilityNotSupported });
  t.is(err!.capability, Capability.PRESIGN);
  t.deepEqual(readdirSync(root), []);
  // Without attributes, writes work as before.
  await store.write('a.csv', 'x');
  t.is((await store.getFileInfo('a.csv')).contentType, undefined);
});

test('a bad attribute value or a misspelt option is a TypeError naming the method and the option', async (t) => {
  const store = new Store(new MemoryBackend());
  await t.throwsAsync(store.write('a', 'x', { contentType: 'a\nb' }), { instanceOf: TypeError, message: /write: option 'contentType'/ });
  await t.throwsAsync(store.writeAtomic('a', 'x', { storageClass: 'cold' }), { instanceOf: TypeError, message: /writeAtomic: option 'storageClass'/ });
  await t.throwsAsync(store.write('a', 'x', { contentTyp: 'text/plain' } as object), { instanceOf: TypeError, message: /unknown option 'contentTyp'/ });
  t.false(await store.exists('a'));
});
