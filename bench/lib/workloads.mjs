// The byte workloads (issues 7 and 14) and the ops each cell runs. A plan is data (JSON), so the
// Node and the Python cell runners execute the same ops; run.mjs uploads the objects that
// the plans read (`fixtures`) before any cell runs.
export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

export const label = (n) => (n >= GiB ? `${+(n / GiB).toFixed(2)} GiB` : n >= MiB ? `${+(n / MiB).toFixed(1)} MiB` : `${+(n / KiB).toFixed(1)} KiB`);
const slug = (n) => label(n).replace(' ', '');

/** Sizes and counts: the full run, or --quick (small sizes, few repetitions). */
export function settings(quick) {
  return quick
    ? { sizes: [4 * KiB, MiB, 32 * MiB], copySize: 32 * MiB, listKeys: 2000, concOps: 256, manyOps: 1024, concBatches: 2, reps: { small: 30, mid: 5, large: 2 }, rounds: 1, parquet: { minBytes: 64 * MiB, rowGroup: 250_000 }, dataset: { rowsPerFile: 10_000 } }
    : { sizes: [4 * KiB, MiB, 64 * MiB, GiB], copySize: GiB, listKeys: 100_000, concOps: 2048, manyOps: 1024, concBatches: 3, reps: { small: 200, mid: 20, large: 3 }, rounds: 3, parquet: { minBytes: GiB, rowGroup: 1_000_000 }, dataset: { rowsPerFile: 50_000 } };
}

const CONC_KEYS = 64;
export const objectKey = (size) => `obj/${slug(size)}`;
export const PARQUET_KEY = 'pq/data.parquet';
export const sourceFile = (dir, size) => `${dir}/src/${slug(size)}.bin`;

/** What must exist on the servers before the workloads run. `peersOnly`: no raw-client row
 *  reads it, so only the default server (the one such workloads use) needs it. */
export function fixtures(s) {
  return {
    objects: [...new Set([4 * KiB, ...s.sizes, s.copySize])].map((size) => ({ key: objectKey(size), size })),
    small: [{ prefix: 'conc/', count: CONC_KEYS, size: 4 * KiB }, { prefix: 'list/', count: s.listKeys, size: 0, peersOnly: true }],
  };
}

const repsFor = (s, size) => (size <= 64 * KiB ? s.reps.small : size <= 8 * MiB ? s.reps.mid : size < GiB ? s.reps.large : 1);
const times = (n, f) => Array.from({ length: n }, (_, i) => f(i));

/**
 * The Parquet workloads over the file that parquet/generate.py wrote (`pq`: its sidecar).
 * Ops: { kind: 'parquet', key, columns (null = all), filter (pyarrow-style DNF), expect: rows }.
 * Each cell reads once untimed first, as every other workload warms up: the timed read then
 * measures reading, not loading a library, starting its runtime or opening connections.
 */
export function parquetWorkloads(pq) {
  const common = { group: 'Parquet', metric: 'time', parquet: true };
  // `chunks`: the byte ranges of the selected column chunks (of the row groups `groups`, or
  // all), for the raw client (the wire limit).
  const op = (columns, filter, expect, groups) => ({
    kind: 'parquet',
    key: PARQUET_KEY,
    columns,
    filter,
    expect,
    chunks: [{ key: PARQUET_KEY, ranges: (columns ?? Object.keys(pq.chunkRanges)).flatMap((c) => pq.chunkRanges[c].filter((_, g) => !groups || groups.includes(g))) }],
  });
  const once = (o) => () => ({ warmup: [o], measured: [o] });
  const cut = Math.floor(pq.rows / 20);
  const two = ['f00', 'i00'];
  return [
    { ...common, id: 'pq-2of20', title: `Parquet: 2 of 20 columns (${two.join(', ')}) of ${label(pq.bytes)}`, selectedBytes: two.reduce((n, c) => n + pq.columnChunkBytes[c], 0), plan: once(op(two, undefined, pq.rows)) },
    { ...common, id: 'pq-filter', title: `Parquet: selective filter id < ${cut} (5 % of rows, 1 row group), 2 columns`, plan: once(op(['id', 'f01'], [['id', '<', cut]], cut, [0])) },
    { ...common, id: 'pq-scan', title: `Parquet: full scan, all 20 columns of ${label(pq.bytes)}`, plan: once(op(null, undefined, pq.rows)) },
  ];
}

export const DATASET_PREFIX = 'ds';

/**
 * The dataset workloads over the hive-partitioned folder parquet/generate.py --dataset wrote
 * (`ds`: its sidecar): a filter selecting 2 of its partitions and 2 of its 20 columns, read by
 * each peer; and a partitioned write of a table of the same shape (ours only: event-loop delay
 * and time). `selectedBytes`: the selected partitions' selected column chunks, which the raw
 * client fetches and nothing else (the wire limit).
 */
export function datasetWorkloads(ds) {
  const common = { group: 'Dataset', metric: 'time', parquet: true };
  const once = (o) => () => ({ warmup: [o], measured: [o] });
  const columns = ['f00', 'i00'];
  const days = [3, 7];
  const files = ds.files.filter((f) => days.includes(f.partition));
  const chunks = files.map((f) => ({ key: `${DATASET_PREFIX}/${f.path}`, ranges: columns.flatMap((c) => f.chunkRanges[c]) }));
  const selectedBytes = chunks.reduce((n, c) => n + c.ranges.reduce((m, [, len]) => m + len, 0), 0);
  const rows = files.reduce((n, f) => n + f.rows, 0);
  const partitions = new Set(ds.files.map((f) => f.partition)).size;
  const read = { kind: 'dataset', key: DATASET_PREFIX, columns, filter: [['day', 'in', days]], expect: rows, chunks };
  const writeRows = ds.files.slice(0, 10).reduce((n, f) => n + f.rows, 0);
  return [
    {
      ...common,
      id: 'ds-2of10',
      title: `Dataset: ${ds.files.length} files in ${partitions} hive partitions, filter on 2 partitions, 2 of 20 columns`,
      selectedBytes,
      peers: ['pq-raw', 'pq-ours', 'polars', 'duckdb'],
      plan: once(read),
    },
    {
      ...common,
      id: 'ds-write',
      title: `Dataset write: ${writeRows.toLocaleString('en')} rows × 20 columns, partitioned by day into 10 folders`,
      peers: ['pq-ours'],
      cleanup: (peer) => `dsw/${peer}/`,
      plan: (peer) => ({
        warmup: [{ kind: 'datasetWrite', key: `dsw/${peer}/warm`, rows: 1000, partitions: 10, expect: 10 }],
        measured: [{ kind: 'datasetWrite', key: `dsw/${peer}/run`, rows: writeRows, partitions: 10, expect: 10 }],
      }),
    },
  ];
}

/** Large transfers: the ≥ 64 MiB sizes of the full run (32 MiB in --quick). */
export const isLarge = (size) => size > 8 * MiB;

/** The servers that the rows judged against the raw SDK run on, each (issue 14: "on versitygw
 *  and MinIO"); every other row runs on the fastest server for it. */
export const BOTH_SERVERS = ['versitygw', 'minio'];

/**
 * The workloads. `raw: true` means the ceiling clients take part too (they speak only
 * GET/PUT/HEAD). `metric` says how results.md shows the median time: per-op latency,
 * throughput of `bytes`, or operations per second of `ops`. `both: true`: the peers run on
 * each of BOTH_SERVERS (a row per server), because issue 14 judges ours against the raw SDK
 * there. `issue14`: the row feeds an issue-14 target (`--only issue14` selects these).
 * `without`: peers that cannot do the op (results.md says so under the row).
 */
export function workloads(s, srcDir) {
  const list = [];
  const warmKey = objectKey(4 * KiB);
  for (const size of s.sizes) {
    const n = repsFor(s, size);
    const metric = size <= 64 * KiB ? 'latency' : 'throughput';
    const large = isLarge(size);
    list.push({
      id: `get-${slug(size)}`,
      group: 'GET',
      title: `GET ${label(size)} (whole object into memory)`,
      size,
      bytes: size,
      metric,
      raw: true,
      both: large,
      issue14: large,
      plan: () => ({
        warmup: times(2, () => ({ kind: 'get', key: warmKey, expect: 4 * KiB })),
        measured: times(n, () => ({ kind: 'get', key: objectKey(size), expect: size })),
      }),
    });
    // Up to 1 MiB the body is a Buffer (read before timing); larger ones stream from a tmpfs
    // file, and large ones are also sent from a Buffer (`-buf`): issue 14 judges both.
    const put = (kind, id, how) => ({
      id,
      group: 'PUT',
      title: `PUT ${label(size)} (${how})`,
      size,
      bytes: size,
      metric,
      raw: true,
      both: large || size <= 64 * KiB,
      issue14: large || size <= 64 * KiB,
      cleanup: (peer) => `put/${peer}/`,
      plan: (peer) => ({
        warmup: [{ kind: 'put', key: `put/${peer}/warm`, source: sourceFile(srcDir, 4 * KiB) }],
        measured: times(n, (i) => ({ kind, key: `put/${peer}/${slug(size)}/${i}`, source: sourceFile(srcDir, size), size })),
      }),
    });
    if (size <= MiB) list.push(put('put', `put-${slug(size)}`, 'from a Buffer'));
    else list.push(put('putFile', `put-${slug(size)}`, 'streamed from a tmpfs file'));
    if (large) list.push(put('put', `put-${slug(size)}-buf`, 'from a Buffer'));
  }
  // Create-only writes (`overwrite: false`: If-None-Match: * on the wire), each to a key that
  // does not exist yet; the SDK sends the same conditional PutObject. opendal 0.47 has no
  // conditional write.
  const createN = s.reps.small;
  list.push({
    id: 'put-4KiB-create',
    group: 'PUT',
    title: 'PUT 4 KiB create-only (overwrite: false, If-None-Match: *), a fresh key each',
    size: 4 * KiB,
    bytes: 4 * KiB,
    metric: 'latency',
    raw: true,
    both: true,
    issue14: true,
    without: { opendal: 'no conditional write in opendal 0.47' },
    cleanup: (peer) => `create/${peer}/`,
    plan: (peer) => ({
      warmup: times(3, (i) => ({ kind: 'putCreate', key: `create/${peer}/warm/${i}`, source: sourceFile(srcDir, 4 * KiB) })),
      measured: times(createN, (i) => ({ kind: 'putCreate', key: `create/${peer}/${i}`, source: sourceFile(srcDir, 4 * KiB) })),
    }),
  });
  const conc = (kind, keyOf) => ({
    id: `${kind}-64x4KiB`,
    group: 'concurrent',
    title: `64 concurrent 4 KiB ${kind.toUpperCase()}s (${s.concOps} per batch)`,
    size: 4 * KiB,
    ops: s.concOps,
    metric: 'ops',
    raw: true,
    concurrency: 64,
    cleanup: kind === 'put' ? (peer) => `cput/${peer}/` : undefined,
    plan: (peer) => {
      const op = (b, i) =>
        kind === 'get'
          ? { kind, key: `conc/${i % CONC_KEYS}`, expect: 4 * KiB }
          : { kind, key: `cput/${peer}/${b}/${i}`, source: sourceFile(srcDir, 4 * KiB) };
      return { warmup: [{ batch: times(CONC_KEYS, (i) => op('w', i)) }], measured: times(s.concBatches, (b) => ({ batch: times(s.concOps, (i) => op(b, i)) })) };
    },
  });
  list.push(conc('get'), conc('put'));
  list[list.length - 1].issue14 = true; // 64-way PUTs: ours against opendal
  // 1,024 writes started at once (each batch), as an application that fans out does: ops/s
  // against the SDK's, and the event loop while 1,024 requests are in flight.
  list.push({
    id: `put-${s.manyOps}x4KiB`,
    group: 'concurrent',
    title: `${s.manyOps.toLocaleString('en')} concurrent 4 KiB PUTs (all at once, per batch)`,
    size: 4 * KiB,
    ops: s.manyOps,
    metric: 'ops',
    raw: true,
    both: true,
    issue14: true,
    concurrency: s.manyOps,
    cleanup: (peer) => `mput/${peer}/`,
    plan: (peer) => {
      const op = (b, i) => ({ kind: 'put', key: `mput/${peer}/${b}/${i}`, source: sourceFile(srcDir, 4 * KiB) });
      return { warmup: [{ batch: times(CONC_KEYS, (i) => op('w', i)) }], measured: times(s.concBatches, (b) => ({ batch: times(s.manyOps, (i) => op(b, i)) })) };
    },
  });
  for (const kind of ['head', 'exists']) {
    list.push({
      id: kind,
      group: 'metadata',
      title: kind === 'head' ? 'HEAD (getFileInfo / stat) of a 4 KiB object' : 'exists() of a 4 KiB object',
      metric: 'latency',
      raw: true,
      both: true,
      issue14: true,
      plan: () => ({
        warmup: times(3, () => ({ kind, key: warmKey, expect: kind === 'head' ? 4 * KiB : true })),
        measured: times(s.reps.small, () => ({ kind, key: warmKey, expect: kind === 'head' ? 4 * KiB : true })),
      }),
    });
  }
  list.push({
    id: `list-${s.listKeys}`,
    group: 'metadata',
    title: `listing ${s.listKeys.toLocaleString('en')} keys (recursive)`,
    ops: s.listKeys,
    metric: 'time',
    plan: () => ({ warmup: [{ kind: 'list', key: 'conc/', expect: CONC_KEYS }], measured: [{ kind: 'list', key: 'list/', expect: s.listKeys }] }),
  });
  list.push({
    id: `copy-${slug(s.copySize)}`,
    group: 'copy',
    title: `server-side copy of ${label(s.copySize)}`,
    size: s.copySize,
    bytes: s.copySize,
    metric: 'throughput',
    cleanup: (peer) => `copy/${peer}/`,
    plan: (peer) => ({
      warmup: [{ kind: 'copy', key: warmKey, dst: `copy/${peer}/warm` }],
      measured: [{ kind: 'copy', key: objectKey(s.copySize), dst: `copy/${peer}/${slug(s.copySize)}` }],
    }),
  });
  return list;
}
