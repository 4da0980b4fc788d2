import { Command, CommanderError, Option } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import * as nodePath from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ConfigError } from '../config';
import { LocalBackend } from '../backends/local';
import { RemoteStoreError } from '../errors';
import { compileGlob } from '../glob';
import type { ProgressCallback } from '../backend';
import { Registry } from '../registry';
import { Store } from '../store';
import { addParquetCommands } from './parquet';

/** Transfers above this size show a progress bar when the output is a terminal. */
const PROGRESS_THRESHOLD = 4 * 1024 * 1024;
/** The default store: a local directory below the current one. */
const DEFAULT_ROOT = '.remote-store';

interface GlobalOptions {
  config?: string;
  store?: string;
  root: string;
  resolveEnv?: boolean;
}

/** Opens the store the global options name: a registry store, or the default local directory. */
async function openStore(options: GlobalOptions): Promise<{ store: Store; close: () => Promise<void> }> {
  if (options.config) {
    const registry = await Registry.fromFile(options.config, { resolveEnv: options.resolveEnv ?? false });
    const names = registry.storeNames;
    const name = options.store ?? (names.length === 1 ? names[0] : undefined);
    if (!name) throw new ConfigError(`--store is required: ${options.config} defines stores [${names.join(', ')}]`);
    return { store: registry.getStore(name), close: () => registry.close() };
  }
  if (options.store) throw new ConfigError('--store needs --config FILE');
  // An empty REMOTE_STORE_ROOT counts as unset.
  const store = new Store(new LocalBackend({ root: options.root || DEFAULT_ROOT }));
  return { store, close: () => store.close() };
}

/** A progress callback drawing a bar on a terminal for large transfers, or nothing. */
function progressBar(total: number | undefined, label: string): { onProgress?: ProgressCallback; stop: () => void } {
  if (!process.stdout.isTTY || total === undefined || total < PROGRESS_THRESHOLD) return { stop: () => undefined };
  const bar = new SingleBar(
    { format: `${label} [{bar}] {percentage}% | {value}/{total} MiB`, hideCursor: true, clearOnComplete: false },
    Presets.shades_classic,
  );
  const mib = (n: number) => Math.round((n / 1048576) * 10) / 10;
  bar.start(mib(total), 0);
  return { onProgress: ({ bytes }) => bar.update(mib(bytes)), stop: () => bar.stop() };
}

function formatSize(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

export function buildProgram(): Command {
  const program = new Command('remote-store')
    .description('Work with files in a remote-store: a local directory by default, or any store of a registry config.')
    .option('-c, --config <file>', 'registry config file (.json, .toml, .yaml)')
    .option('-s, --store <name>', 'store of the config to use (optional when it has only one)')
    .addOption(new Option('-r, --root <dir>', 'directory of the default local store').env('REMOTE_STORE_ROOT').default(DEFAULT_ROOT))
    .option('--resolve-env', 'resolve ${VAR} placeholders in the config from the environment')
    .showHelpAfterError()
    .exitOverride();

  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const withStore = (fn: (store: Store, ...args: any[]) => Promise<void>) =>
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async (...args: any[]) => {
      const { store, close } = await openStore(globals());
      try {
        await fn(store, ...args);
      } finally {
        await close();
      }
    };

  program
    .command('ls')
    .description('list files and folders')
    .argument('[path]', 'folder to list', '')
    .option('-R, --recursive', 'list files of every sub-folder')
    .option('-p, --pattern <glob>', 'only names matching the glob, e.g. "*.csv"')
    .option('-l, --long', 'show size and modification time')
    .action(
      withStore(async (store, path: string, opts: { recursive?: boolean; pattern?: string; long?: boolean }) => {
        const line = (name: string, size?: number, when?: Date) =>
          opts.long && size !== undefined ? `${formatSize(size).padStart(10)}  ${when?.toISOString() ?? ''}  ${name}` : name;
        if (opts.recursive) {
          for await (const f of store.listFiles(path, { recursive: true, pattern: opts.pattern })) {
            process.stdout.write(`${line(f.path, f.size, f.modifiedAt)}\n`);
          }
          return;
        }
        const match = opts.pattern === undefined ? undefined : compileGlob(opts.pattern);
        for await (const entry of store.iterChildren(path)) {
          if (match && !match(entry.name)) continue;
          if (entry.kind === 'folder') process.stdout.write(`${opts.long ? `${'-'.padStart(10)}  ${''.padEnd(24)}  ` : ''}${entry.path}/\n`);
          else process.stdout.write(`${line(entry.path, entry.size, entry.modifiedAt)}\n`);
        }
      }),
    );

  program
    .command('cat')
    .description('print a file to stdout')
    .argument('<path>')
    .action(
      withStore(async (store, path: string) => {
        await pipeline(await store.read(path), process.stdout, { end: false });
      }),
    );

  program
    .command('put')
    .description("upload a local file ('-' for stdin) to the store")
    .argument('<local>')
    .argument('[remote]', 'store path (default: the local file name)')
    .option('-f, --overwrite', 'replace an existing file')
    .action(
      withStore(async (store, local: string, remote: string | undefined, opts: { overwrite?: boolean }) => {
        const target = remote ?? nodePath.basename(local);
        const size = local === '-' ? undefined : (await stat(local)).size;
        const source = local === '-' ? process.stdin : createReadStream(local);
        const bar = progressBar(size, `put ${target}`);
        try {
          const result = await store.write(target, source, { overwrite: opts.overwrite ?? false, onProgress: bar.onProgress });
          bar.stop();
          process.stderr.write(`wrote ${result.path} (${formatSize(result.size)})\n`);
        } finally {
          bar.stop();
        }
      }),
    );

  program
    .command('get')
    .description("download a file to a local path ('-' for stdout)")
    .argument('<remote>')
    .argument('[local]', 'local path (default: the file name)')
    .option('-f, --overwrite', 'replace an existing local file')
    .action(
      withStore(async (store, remote: string, local: string | undefined, opts: { overwrite?: boolean }) => {
        const target = local ?? nodePath.basename(remote);
        if (target === '-') {
          await pipeline(await store.read(remote), process.stdout, { end: false });
          return;
        }
        const info = await store.getFileInfo(remote);
        const bar = progressBar(info.size, `get ${remote}`);
        let bytes = 0;
        const counter = new Transform({
          transform(chunk: Buffer, _enc, done) {
            bytes += chunk.length;
            bar.onProgress?.({ bytes, total: info.size });
            done(null, chunk);
          },
        });
        try {
          await pipeline(await store.read(remote), counter, createWriteStream(target, { flags: opts.overwrite ? 'w' : 'wx' }));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
            throw new ConfigError(`local file '${target}' exists; use --overwrite to replace it`);
          }
          throw err;
        } finally {
          bar.stop();
        }
        process.stderr.write(`saved ${target} (${formatSize(bytes)})\n`);
      }),
    );

  for (const [name, verb] of [
    ['cp', 'copy'],
    ['mv', 'move'],
  ] as const) {
    program
      .command(name)
      .description(`${verb} a file inside the store`)
      .argument('<src>')
      .argument('<dst>')
      .option('-f, --overwrite', 'replace an existing destination')
      .action(
        withStore(async (store, src: string, dst: string, opts: { overwrite?: boolean }) => {
          await store[verb](src, dst, { overwrite: opts.overwrite ?? false });
        }),
      );
  }

  program
    .command('rm')
    .description('delete a file, or a folder with --recursive')
    .argument('<path>')
    .option('-R, --recursive', 'delete a folder and everything in it')
    .option('--missing-ok', 'do not fail when the path does not exist')
    .action(
      withStore(async (store, path: string, opts: { recursive?: boolean; missingOk?: boolean }) => {
        if (opts.recursive) await store.deleteFolder(path, { recursive: true, missingOk: opts.missingOk ?? false });
        else await store.delete(path, { missingOk: opts.missingOk ?? false });
      }),
    );

  program
    .command('info')
    .description('show a file or folder description as JSON')
    .argument('[path]', 'file or folder', '')
    .action(
      withStore(async (store, path: string) => {
        const info = (await store.isFolder(path)) ? await store.getFolderInfo(path) : await store.getFileInfo(path);
        process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
      }),
    );

  addParquetCommands(program, withStore);

  return program;
}

/** Runs the CLI; returns the exit code (0 ok, 1 operation failed, 2 usage error). */
export async function main(argv: string[] = process.argv): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    const known = err instanceof RemoteStoreError || err instanceof ConfigError || err instanceof TypeError || err instanceof RangeError;
    const message = known ? (err as Error).message : `${(err as Error)?.message ?? String(err)}`;
    process.stderr.write(`remote-store: ${message}\n`);
    return known && !(err instanceof RemoteStoreError) ? 2 : 1;
  }
}
