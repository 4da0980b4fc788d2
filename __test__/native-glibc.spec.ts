// The linux gnu addon is linked against glibc 2.17 (napi-rs's cross toolchain, see
// scripts/build-native.mjs), so it loads on glibc 2.17 and newer: no symbol it imports may carry
// a newer GLIBC_ version than that. The release workflow checks each published binary the same way.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';

const FLOOR = [2, 17];
const suffix = `linux-${process.arch}-gnu`;
const file = path.join(import.meta.dirname, '..', 'native', `remote-store.${suffix}.node`);

if (process.platform === 'linux') {
  test(`the built ${suffix} addon needs no GLIBC symbol newer than ${FLOOR.join('.')}`, (t) => {
    t.true(existsSync(file), `${file} was not built`);
    const symbols = execFileSync('objdump', ['-T', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const versions = [...new Set(symbols.match(/GLIBC_[0-9.]+/g) ?? [])].map((v) => v.slice(6).split('.').map(Number));
    t.true(versions.length > 0, 'no GLIBC versioned symbols found: is this a glibc build?');
    const highest = versions.sort((a, b) => a[0]! - b[0]! || (a[1] ?? 0) - (b[1] ?? 0) || (a[2] ?? 0) - (b[2] ?? 0)).at(-1) as number[];
    t.log(`highest GLIBC symbol version: ${highest.join('.')}`);
    t.true(highest[0]! < FLOOR[0]! || (highest[0] === FLOOR[0] && (highest[1] ?? 0) <= FLOOR[1]!), `needs GLIBC_${highest.join('.')}`);
  });
}
