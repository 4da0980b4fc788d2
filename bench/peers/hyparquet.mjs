// Parquet peer: hyparquet (pure JS) over HTTP range requests on a presigned URL. Column
// reads decode column chunks without building row objects; a filter needs row objects
// (hyparquet's rule) and skips row groups by their statistics.
import { presigner } from './presign.mjs';
import { asyncBufferFromUrl, parquetMetadataAsync, parquetRead, parquetReadObjects } from 'hyparquet';

const OPS = { '<': '$lt', '<=': '$lte', '>': '$gt', '>=': '$gte', '==': '$eq' };

export async function open(t) {
  const signer = presigner(t);
  return {
    prepare: async (ops) => void (await Promise.all(ops.map((op) => signer.url('GET', op.key)))),
    async parquet({ key, columns, filter }) {
      const file = await asyncBufferFromUrl({ url: await signer.url('GET', key) });
      const metadata = await parquetMetadataAsync(file);
      if (filter) {
        const where = Object.fromEntries(filter.map(([c, op, v]) => [c, { [OPS[op]]: v }]));
        return (await parquetReadObjects({ file, metadata, columns, filter: where })).length;
      }
      const first = columns?.[0] ?? metadata.schema[1].name;
      let rows = 0;
      await parquetRead({ file, metadata, columns, onChunk: (c) => c.columnName === first && (rows += c.columnData.length) });
      return rows;
    },
    close: () => signer.close(),
  };
}
