// Who takes part. `module` is a Node peer in ../peers/<module>.mjs, `python` a Python one
// run with the bench venv; `ceiling` marks the raw clients the others are measured against;
// `parquet` peers take part in the Parquet workloads only, the others in the byte workloads.
// Peers talk to the run's S3 server (--server); a `server` field pins a raw client to one
// server, so the run also measures the server it did not pick.
export const PEERS = [
  { id: 'raw-nginx', name: 'raw HTTP → nginx (ceiling)', module: 'raw-http', options: { via: 'nginx' }, ceiling: 'http' },
  { id: 'raw-versitygw', name: 'raw HTTP → versitygw (presigned)', module: 'raw-http', options: { via: 's3' }, ceiling: 'server', server: 'versitygw' },
  { id: 'raw-minio', name: 'raw HTTP → MinIO (presigned)', module: 'raw-http', options: { via: 's3' }, ceiling: 'server', server: 'minio' },
  // Measured for the record, never the peers' server: its 40 ms stalls on small bodies come
  // and go (no TCP_NODELAY), so the raw pass can miss them and the peers then hit them.
  { id: 'raw-s3s-fs', name: 'raw HTTP → s3s-fs (presigned)', module: 'raw-http', options: { via: 's3' }, ceiling: 'server', server: 's3s-fs', recordOnly: true },
  { id: 'aws-sdk', name: '@aws-sdk/client-s3 direct', module: 'aws-sdk', pkg: '@aws-sdk/client-s3' },
  { id: 's3', name: 'remote-store s3 (ours)', module: 'remote-store', options: { type: 's3' }, ours: true },
  { id: 's3-arrow', name: 'remote-store s3-arrow (ours)', module: 'remote-store', options: { type: 's3-arrow' }, ours: true, native: true },
  { id: 'opendal', name: 'opendal (Node)', module: 'opendal', pkg: 'opendal' },
  { id: 'py-s3', name: 'Python remote-store s3', python: 'remote_store_py', options: { type: 's3' }, pip: 'remote-store' },
  { id: 'py-s3-pyarrow', name: 'Python remote-store s3-pyarrow', python: 'remote_store_py', options: { type: 's3-pyarrow' }, pip: 'remote-store' },
  // Parquet and datasets. The raw client fetching just the selected column chunks (presigned,
  // all at once) is the wire limit of a reader; duckdb (Python) reads datasets only.
  { id: 'pq-raw', name: 'raw HTTP: the selected column chunks (wire limit)', module: 'raw-http', options: { via: 's3' }, parquet: true, ceiling: 'wire' },
  { id: 'pq-ours', name: 'remote-store readParquet / readDataset (ours, s3-arrow)', module: 'remote-store-parquet', parquet: true, ours: true, native: true },
  { id: 'polars', name: 'nodejs-polars scanParquet', module: 'polars', options: { useStatistics: true }, parquet: true },
  { id: 'polars-nostats', name: 'nodejs-polars scanParquet, useStatistics: false', module: 'polars', options: { useStatistics: false }, parquet: true },
  { id: 'parquet-wasm', name: 'parquet-wasm', module: 'parquet-wasm', parquet: true },
  { id: 'hyparquet', name: 'hyparquet', module: 'hyparquet', parquet: true },
  { id: 'duckdb', name: 'duckdb (Python) read_parquet, hive_partitioning', python: 'duckdb_py', parquet: true, datasetsOnly: true, pip: 'duckdb' },
];
