// The AWS SDK warns on Node < 22 that its releases after January 2027 need Node 22. The CLI
// keeps that warning from its users; the library leaves warnings of the user's process alone.
import test from 'ava';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { createBucket, startServer, type S3Server } from './support/s3-servers';
import { tempDir } from './support/tmp';

const run = promisify(execFile);
const root = path.join(import.meta.dirname, '..');
const major = Number(process.versions.node.split('.')[0]);
const SDK_WARNING = 'NodeVersionSupportWarning';

let server: Promise<S3Server> | undefined;
const s3 = () => (server ??= startServer('s3s-fs'));
test.after.always(async () => {
  if (server) await (await server).stop();
});

/** The environment of a user who has not touched the SDK's switch. */
function userEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  return env;
}

test('the CLI on an s3 store prints no AWS SDK Node-version warning', async (t) => {
  const s = await s3();
  const bucket = await createBucket(s);
  const { dir, remove } = await tempDir();
  t.teardown(remove);
  const config = path.join(dir, 'remote-store.yaml');
  await writeFile(
    config,
    `backends:\n  lake:\n    type: s3\n    options:\n      bucket: ${bucket}\n      key: ${s.accessKey}\n      secret: ${s.secretKey}\n` +
      `      endpoint_url: ${s.endpoint}\n      region_name: ${s.region}\nstores:\n  main:\n    backend: lake\n`,
  );
  await writeFile(path.join(dir, 'x.txt'), 'x');
  const bin = path.join(root, 'bin', 'remote-store.js');
  const put = await run(process.execPath, [bin, '-c', config, 'put', 'x.txt', 'x.txt'], { cwd: dir, env: userEnv() });
  const ls = await run(process.execPath, [bin, '-c', config, 'ls'], { cwd: dir, env: userEnv() });
  t.is(ls.stdout, 'x.txt\n');
  t.is(put.stderr, 'wrote x.txt (1 B)\n');
  t.is(ls.stderr, '');
});

test('the library leaves process warnings alone', async (t) => {
  const s = await s3();
  const bucket = await createBucket(s);
  const script = `
    const warnings = [];
    process.on('warning', (w) => warnings.push(String(w.message).split('\\n')[0]));
    const original = process.emitWarning;
    const { Store, S3Backend } = require(${JSON.stringify(root)});
    const store = new Store(new S3Backend(${JSON.stringify({ bucket, key: s.accessKey, secret: s.secretKey, endpoint_url: s.endpoint, region_name: s.region })}));
    store.exists('nothing').then(async (exists) => {
      await store.close();
      setImmediate(() => console.log(JSON.stringify({
        exists,
        warnings,
        patched: process.emitWarning !== original,
        disabled: process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ?? null,
      })));
    });`;
  const { stdout } = await run(process.execPath, ['--no-warnings', '-e', script], { env: userEnv() });
  const report = JSON.parse(stdout);
  t.like(report, { exists: false, patched: false, disabled: null });
  // The SDK's own warning reaches the user's process wherever the SDK emits it (Node < 22).
  t.is(report.warnings.some((w: string) => w.includes(SDK_WARNING)), major < 22, JSON.stringify(report.warnings));
});
