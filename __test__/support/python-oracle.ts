/**
 * The Python remote-store 0.33.0 (installed by scripts/install-pyarrow.sh next to pyarrow) as an
 * oracle: `pythonOracle(job)` runs one job of python_oracle.py and returns its JSON answer. A
 * missing venv or a failing job fails the test with Python's own output: nothing is skipped.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PYARROW_PYTHON } from './arrow-types';

const SCRIPT = join(import.meta.dirname, 'python_oracle.py');

export async function pythonOracle<T>(job: Record<string, unknown>): Promise<T> {
  if (!existsSync(PYARROW_PYTHON)) {
    throw new Error(`missing ${PYARROW_PYTHON}: npm test runs scripts/install-pyarrow.sh first (it installs the Python remote-store there)`);
  }
  const child = spawn(PYARROW_PYTHON, [SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => err.push(c));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  child.stdin.end(JSON.stringify(job));
  const code = await exited;
  if (code !== 0) {
    throw new Error(`python_oracle.py ${String(job.cmd)} exited with ${code}: ${Buffer.concat(err).toString().slice(-3000)}`);
  }
  return JSON.parse(Buffer.concat(out).toString()) as T;
}
