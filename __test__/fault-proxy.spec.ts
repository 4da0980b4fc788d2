// The fault proxy is test equipment: check that each fault really happens before
// trusting the reliability tests built on it.
import test from 'ava';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultProxy } from './support/fault-proxy';

const BODY = Buffer.alloc(256 * 1024, 7);

async function upstream(): Promise<{ url: string; close: () => Promise<void>; received: () => number; requests: () => number }> {
  let received = 0;
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests++;
    req.on('data', (c: Buffer) => (received += c.length));
    req.on('end', () => {
      res.writeHead(200, { 'content-length': BODY.length, 'x-host-seen': req.headers.host ?? '' });
      res.end(BODY);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received: () => received,
    requests: () => requests,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

function fetchVia(url: string, init: { method?: string; body?: Buffer } = {}) {
  return new Promise<{ status: number; body: Buffer; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
    const req = http.request(url, { method: init.method ?? 'GET', agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts), headers: res.headers }));
      res.on('error', reject);
      res.on('aborted', () => reject(new Error('response aborted')));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

test('forwards requests unchanged, Host header included, and counts the bytes', async (t) => {
  const up = await upstream();
  const proxy = await FaultProxy.start(up.url);
  try {
    const res = await fetchVia(`${proxy.url}/bucket/key`, { method: 'PUT', body: Buffer.alloc(1000) });
    t.is(res.status, 200);
    t.deepEqual(res.body, BODY);
    t.is(res.headers['x-host-seen'], new URL(proxy.url).host);
    t.is(proxy.stats.bytesUp, 1000);
    t.is(proxy.stats.bytesDown, BODY.length);
    t.is(proxy.stats.byMethod.PUT, 1);
  } finally {
    await proxy.stop();
    await up.close();
  }
});

test('answers an injected status the given number of times, then recovers', async (t) => {
  const up = await upstream();
  const proxy = await FaultProxy.start(up.url);
  try {
    proxy.inject({ fault: { kind: 'status', status: 503 }, times: 2 });
    t.is((await fetchVia(proxy.url)).status, 503);
    const second = await fetchVia(proxy.url);
    t.is(second.status, 503);
    t.regex(second.body.toString(), /SlowDown/);
    t.is((await fetchVia(proxy.url)).status, 200);
    t.is(proxy.stats.faults, 2);
  } finally {
    await proxy.stop();
    await up.close();
  }
});

test('resets, truncates and stalls responses', async (t) => {
  const up = await upstream();
  const proxy = await FaultProxy.start(up.url);
  try {
    proxy.inject({ fault: { kind: 'reset-response', afterBytes: 1000 } });
    await t.throwsAsync(() => fetchVia(proxy.url));
    proxy.inject({ fault: { kind: 'truncate', afterBytes: 5000 } });
    // Content-Length promised 256 KiB; a client must notice the short body.
    await t.throwsAsync(() => fetchVia(proxy.url));
    t.is(proxy.stats.bytesDown, 1000 + 5000);
    // A stall holds the request: the upstream never hears of it while the client waits.
    proxy.inject({ fault: { kind: 'stall', ms: Infinity } });
    const seen = up.requests();
    const faults = proxy.stats.faults;
    const held = http.request(proxy.url, { agent: false });
    held.on('error', () => undefined);
    held.end();
    while (proxy.stats.faults === faults) await new Promise((r) => setTimeout(r, 5));
    t.is(up.requests(), seen);
    held.destroy();
    // A stall with an end lets the request through after it.
    proxy.inject({ fault: { kind: 'stall', ms: 50 } });
    t.is((await fetchVia(proxy.url)).status, 200);
    t.is(up.requests(), seen + 1);
  } finally {
    await proxy.stop();
    await up.close();
  }
});

test('drops a request body part-way, only for matching requests', async (t) => {
  const up = await upstream();
  const proxy = await FaultProxy.start(up.url);
  try {
    proxy.inject({ method: 'PUT', match: (url) => url.includes('partNumber='), fault: { kind: 'reset-request', afterBytes: 64 * 1024 } });
    t.is((await fetchVia(`${proxy.url}/b/k`, { method: 'PUT', body: Buffer.alloc(200 * 1024) })).status, 200);
    await t.throwsAsync(() => fetchVia(`${proxy.url}/b/k?partNumber=1&uploadId=x`, { method: 'PUT', body: Buffer.alloc(200 * 1024) }));
    t.is(proxy.pendingRules, 0);
    t.true(up.received() < 400 * 1024);
  } finally {
    await proxy.stop();
    await up.close();
  }
});
