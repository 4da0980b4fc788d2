'use strict';
// Loads the native addon for this platform: a binary built in this folder
// (remote-store.<platform>.node, from `npm run build:native` in a checkout) if there is one,
// else the prebuilt package @remote-store/native-<platform> that npm installs from the main
// package's optionalDependencies. Nothing is compiled at install time. When no binary fits, the
// error names the platform and what to do about it.
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { platformSuffix, suffixOfTarget } = require('./platform.js');
const pkg = require('../package.json');

const suffix = platformSuffix();
const packageName = `${pkg.napi.packageName}-${suffix}`;
const localBuild = join(__dirname, `${pkg.napi.binaryName}.${suffix}.node`);
const inCheckout = existsSync(join(__dirname, '..', 'crates', 'node', 'Cargo.toml'));

function load() {
  if (existsSync(localBuild)) return require(localBuild);
  let manifest;
  try {
    manifest = require(`${packageName}/package.json`);
  } catch (err) {
    if (err.code !== 'MODULE_NOT_FOUND') throw err;
    throw missing();
  }
  if (manifest.version !== pkg.version) {
    throw new Error(
      `${packageName} is version ${manifest.version}, remote-store is ${pkg.version}: ` +
        `install the matching binary with \`npm install ${packageName}@${pkg.version}\``,
    );
  }
  return require(packageName);
}

function missing() {
  const where = `${suffix} (Node ${process.version})`;
  if (inCheckout) return new Error(`No native addon is built for ${where} in this checkout: run \`npm run build:native\` (needs Rust).`);
  const prebuilt = pkg.napi.targets.map(suffixOfTarget);
  if (!prebuilt.includes(suffix)) {
    return new Error(
      `remote-store has no prebuilt native addon for ${where}; there are binaries for ${prebuilt.join(', ')}. ` +
        's3-arrow, the local backend and the Parquet functions need it; the s3 and memory backends do not. To build it, clone the repository and run `npm install` there (needs Rust).',
    );
  }
  return new Error(
    `The native addon for ${where} is not installed: the package ${packageName}@${pkg.version} is missing. ` +
      'npm installs it with remote-store unless optional dependencies were omitted (--omit=optional) ' +
      `or the lock file was written on another platform; install it with \`npm install ${packageName}@${pkg.version}\`.`,
  );
}

module.exports = load();
