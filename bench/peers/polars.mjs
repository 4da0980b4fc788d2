// Parquet peer: nodejs-polars 0.25.2 scanParquet on s3:// (its object_store client), lazily:
// projection and the filter are pushed into the scan; options.useStatistics toggles row-group
// pruning by min/max statistics. Datasets: scanParquet of the folder's glob with
// hivePartitioning, which prunes files by partition values.
import pl from 'nodejs-polars';

const OPS = { '<': 'lt', '<=': 'lessThanEquals', '>': 'gt', '>=': 'greaterThanEquals', '==': 'eq', in: 'isIn' };

export async function open(t) {
  const cloudOptions = {
    aws_access_key_id: t.accessKey,
    aws_secret_access_key: t.secretKey,
    aws_region: t.region,
    aws_endpoint_url: t.endpoint,
    aws_allow_http: 'true',
  };
  const run = async (source, { columns, filter }, extra = {}) => {
    let q = pl.scanParquet(source, { cloudOptions, useStatistics: t.useStatistics, ...extra });
    if (filter) q = q.filter(filter.map(([c, op, v]) => pl.col(c)[OPS[op]](v)).reduce((a, b) => a.and(b)));
    if (columns) q = q.select(...columns);
    return (await q.collect()).height;
  };
  return {
    parquet: (op) => run(`s3://${t.bucket}/${op.key}`, op),
    dataset: (op) => run(`s3://${t.bucket}/${op.key}/**/*.parquet`, op, { hivePartitioning: true }),
  };
}
