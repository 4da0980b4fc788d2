#!/usr/bin/env node
// The main job on the embedded default store (a local directory, ./.remote-store):
// write files, list them, read one back and describe a folder, through the CLI.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'remote-store.js');

function cli(...args) {
  console.log(`$ remote-store ${args.join(' ')}`);
  const out = execFileSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  process.stdout.write(out.length > 600 ? `${out.slice(0, 600)}…\n` : out);
}

cli('put', '--overwrite', 'README.md', 'demo/README.md');
cli('put', '--overwrite', 'package.json', 'demo/config/package.json');
cli('ls', '-R', '-l', 'demo');
cli('cat', 'demo/config/package.json');
cli('info', 'demo');
console.log(`\nThe files are in ${path.join(root, '.remote-store', 'demo')}`);
