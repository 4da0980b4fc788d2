'use strict';
// Names of the platforms the native addon is built for, shared by the loader (binding.js), the
// build (scripts/build-native.mjs) and the packaging (scripts/pack.mjs). A platform's suffix
// names its binary (remote-store.<suffix>.node) and its npm package (@remote-store/native-<suffix>),
// as napi-rs names them.
const { readFileSync } = require('node:fs');

const ARCH = { x86_64: 'x64', aarch64: 'arm64', i686: 'ia32', armv7: 'arm' };

/** The suffix of a Rust target triple: x86_64-unknown-linux-musl → linux-x64-musl. */
function suffixOfTarget(triple) {
  const arch = ARCH[triple.split('-')[0]];
  if (!arch) throw new Error(`unknown architecture in target ${triple}`);
  if (triple.includes('-linux-')) return `linux-${arch}-${triple.endsWith('musl') ? 'musl' : 'gnu'}`;
  if (triple.endsWith('-apple-darwin')) return `darwin-${arch}`;
  if (triple.endsWith('-windows-msvc')) return `win32-${arch}-msvc`;
  throw new Error(`unknown platform in target ${triple}`);
}

/** True on a musl libc (Alpine); decided without changing process.report's settings. */
function isMusl() {
  if (process.platform !== 'linux') return false;
  try {
    return readFileSync('/usr/bin/ldd', 'utf8').includes('musl');
  } catch {
    return !process.report?.getReport?.()?.header?.glibcVersionRuntime;
  }
}

/** This process's suffix. */
function platformSuffix() {
  const { platform, arch } = process;
  if (platform === 'linux') return `linux-${arch}-${isMusl() ? 'musl' : 'gnu'}`;
  if (platform === 'win32') return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

module.exports = { suffixOfTarget, isMusl, platformSuffix };
