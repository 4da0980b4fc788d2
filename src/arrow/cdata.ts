/**
 * Arrow arrays between the native side and `apache-arrow`, in the vocabulary of the Arrow C
 * Data Interface: format strings for types, and each array's buffers in layout order.
 *
 * Out of Rust: the addon exports a batch as regions (one external ArrayBuffer per native
 * allocation) plus the array tree with `[region, byteOffset, byteLength]` views. Here each
 * view becomes a typed array over that memory and the tree becomes `apache-arrow` Data — no
 * value buffer is copied. apache-arrow slices values and offsets eagerly and applies
 * `Data.offset` only to bitmaps, where the C Data Interface applies one offset to everything;
 * the translation below moves between the two.
 *
 * Into Rust (`writeParquet`): the reverse — apache-arrow Data described as C Data nodes whose
 * buffers are views of the JS memory, lent to Rust for the duration of the call.
 *
 * Each function takes the caller's apache-arrow build as `a` (see `./load.ts`): objects made
 * here must be of the build the caller holds.
 */
import type * as Arrow from 'apache-arrow';
import type { ArrowModule } from './load';

/** One array of an exported tree (the addon's `ExportedNode`). */
export interface ExportedNode {
  format: string;
  name: string;
  nullable: boolean;
  metadata: Record<string, string>;
  dictionaryOrdered: boolean;
  mapKeysSorted: boolean;
  length: number;
  offset: number;
  nullCount: number;
  /** `[region, byteOffset, byteLength]` per buffer, `null` where absent. */
  buffers: Array<[number, number, number] | null>;
  children: ExportedNode[];
  dictionary: ExportedNode | null;
}

export interface ExportedBatch {
  regions: ArrayBuffer[];
  root: ExportedNode;
  schemaMetadata: Record<string, string>;
}

/** One array handed to Rust (the addon's `ImportNode`). */
export interface ImportNode {
  format: string;
  name: string;
  nullable: boolean;
  /** The field's metadata; on the root, the schema's. */
  metadata?: Record<string, string>;
  length: number;
  offset: number;
  buffers: Array<Uint8Array | null>;
  children: ImportNode[];
  /** The dictionary's values (one node) for dictionary-encoded arrays. */
  dictionary?: ImportNode[];
}

const INT_FORMATS: Record<string, [boolean, 8 | 16 | 32 | 64]> = {
  c: [true, 8],
  C: [false, 8],
  s: [true, 16],
  S: [false, 16],
  i: [true, 32],
  I: [false, 32],
  l: [true, 64],
  L: [false, 64],
};

function unitOf(a: ArrowModule, letter: string, format: string): Arrow.TimeUnit {
  const { TimeUnit } = a;
  const unit = { s: TimeUnit.SECOND, m: TimeUnit.MILLISECOND, u: TimeUnit.MICROSECOND, n: TimeUnit.NANOSECOND }[letter];
  if (unit === undefined) throw new TypeError(`Unsupported Arrow format '${format}'`);
  return unit;
}

/** The apache-arrow type of a format string (`children` already converted). */
function typeOf(a: ArrowModule, node: ExportedNode, children: Arrow.Field[]): Arrow.DataType {
  const f = node.format;
  const int = INT_FORMATS[f];
  if (int) return new a.Int(int[0], int[1]);
  switch (f) {
    case 'n':
      return new a.Null();
    case 'b':
      return new a.Bool();
    case 'e':
      return new a.Float16();
    case 'f':
      return new a.Float32();
    case 'g':
      return new a.Float64();
    case 'u':
      return new a.Utf8();
    case 'U':
      return new a.LargeUtf8();
    case 'z':
      return new a.Binary();
    case 'Z':
      return new a.LargeBinary();
    case 'tdD':
      return new a.DateDay();
    case 'tdm':
      return new a.DateMillisecond();
    case 'tiM':
      return new a.IntervalYearMonth();
    case 'tiD':
      return new a.IntervalDayTime();
    case 'tin':
      return new a.IntervalMonthDayNano();
    case '+l':
      return new a.List(children[0]!);
    case '+L':
      return new a.LargeList(children[0]!);
    case '+s':
      return new a.Struct(children);
    case '+m':
      return new a.Map_(children[0] as Arrow.Field<Arrow.Struct>, node.mapKeysSorted);
  }
  if (f.startsWith('tt')) return new a.Time(unitOf(a, f[2]!, f), f[2] === 's' || f[2] === 'm' ? 32 : 64);
  if (f.startsWith('ts')) return new a.Timestamp(unitOf(a, f[2]!, f), f.slice(4) || null);
  if (f.startsWith('tD')) return new a.Duration(unitOf(a, f[2]!, f));
  if (f.startsWith('w:')) return new a.FixedSizeBinary(Number(f.slice(2)));
  if (f.startsWith('+w:')) return new a.FixedSizeList(Number(f.slice(3)), children[0]!);
  if (f.startsWith('d:')) {
    const [precision, scale, bits] = f.slice(2).split(',').map(Number);
    return new a.Decimal(scale!, precision!, bits ?? 128);
  }
  throw new TypeError(`Unsupported Arrow format '${f}' for column '${node.name}'`);
}

/** The apache-arrow field an exported node describes. */
export function fieldOf(a: ArrowModule, node: ExportedNode): Arrow.Field {
  const children = node.children.map((c) => fieldOf(a, c));
  let type = typeOf(a, node, children);
  if (node.dictionary) {
    const values = fieldOf(a, node.dictionary).type;
    type = new a.Dictionary(values, type as never, null, node.dictionaryOrdered);
  }
  const metadata = new Map(Object.entries(node.metadata));
  return new a.Field(node.name, type, node.nullable, metadata);
}

/** Indices of the regions that hold dictionary values (the buffers batches share). */
export function dictionaryRegions(node: ExportedNode, out = new Set<number>(), inDictionary = false): Set<number> {
  if (inDictionary) for (const b of node.buffers) if (b) out.add(b[0]);
  for (const c of node.children) dictionaryRegions(c, out, inDictionary);
  if (node.dictionary) dictionaryRegions(node.dictionary, out, true);
  return out;
}

/** The schema of an exported batch (its root is a struct of the columns). */
export function schemaOf(a: ArrowModule, batch: ExportedBatch): Arrow.Schema {
  return new a.Schema(batch.root.children.map((c) => fieldOf(a, c)), new Map(Object.entries(batch.schemaMetadata)));
}

/** Bytes per value of a fixed-width format, 0 for bit-packed booleans, undefined otherwise. */
function fixedWidth(format: string): number | undefined {
  const int = INT_FORMATS[format];
  if (int) return int[1] / 8;
  if (format === 'b') return 0;
  if (format === 'e') return 2;
  if (format === 'f' || format === 'tdD' || format === 'tts' || format === 'ttm' || format === 'tiM') return 4;
  if (format === 'g' || format === 'tdm' || format === 'ttu' || format === 'ttn' || format === 'tiD') return 8;
  if (format === 'tin') return 16;
  if (format.startsWith('ts') || format.startsWith('tD')) return 8;
  if (format.startsWith('w:')) return Number(format.slice(2));
  if (format.startsWith('d:')) return (Number(format.slice(2).split(',')[2] ?? 128) / 8) | 0;
  return undefined;
}

/** apache-arrow's makeData, whose props type is not exported. */
function make(a: ArrowModule, props: Record<string, unknown>): Arrow.Data {
  return a.makeData(props as never) as Arrow.Data;
}

/**
 * The bytes of a buffer view (zero-copy). A view not aligned to `bytesPerElement` within its
 * region (possible only for memory another library allocated) is copied: typed arrays over it
 * cannot be unaligned.
 */
function view(regions: ArrayBuffer[], v: [number, number, number] | null, bytesPerElement = 1): Uint8Array {
  if (!v || v[2] === 0) return new Uint8Array(0);
  const [r, off, len] = v;
  const bytes = new Uint8Array(regions[r]!, off, len);
  return off % bytesPerElement === 0 ? bytes : bytes.slice();
}

function sub(bytes: Uint8Array, from: number, to: number): Uint8Array {
  return bytes.subarray(from, Math.min(to, bytes.length));
}

/**
 * apache-arrow Data for `node` of type `type`, over the exported regions. `extraOffset` and
 * `length` come from a parent that slices its children (struct, fixed-size list).
 */
export function dataOf(
  a: ArrowModule,
  node: ExportedNode,
  type: Arrow.DataType,
  regions: ArrayBuffer[],
  extraOffset = 0,
  length = node.length,
): Arrow.Data {
  const offset = node.offset + extraOffset;
  const [validityView] = node.buffers;
  const hasValidity = node.nullCount > 0 && validityView;
  const nullBitmap = hasValidity ? view(regions, validityView) : undefined;
  const nullCount = hasValidity ? (extraOffset === 0 && length === node.length ? node.nullCount : -1) : 0;
  const base = { type, offset, length, nullCount, nullBitmap };
  const bpe = (type as { ArrayType?: { BYTES_PER_ELEMENT?: number } }).ArrayType?.BYTES_PER_ELEMENT ?? 1;

  if (a.DataType.isDictionary(type)) {
    const width = fixedWidth(node.format)!;
    const indices = sub(view(regions, node.buffers[1] ?? null, width), offset * width, (offset + length) * width);
    const values = dataOf(a, node.dictionary!, type.dictionary, regions);
    return make(a, { ...base, data: indices, dictionary: new a.Vector([values]) });
  }
  const width = fixedWidth(node.format);
  if (width === 0) {
    return make(a, { ...base, data: view(regions, node.buffers[1] ?? null) });
  }
  if (width !== undefined) {
    const data = sub(view(regions, node.buffers[1] ?? null, bpe), offset * width, (offset + length) * width);
    return make(a, { ...base, data });
  }
  switch (node.format) {
    case 'n':
      return make(a, { type, offset: 0, length });
    case 'u':
    case 'z':
    case 'U':
    case 'Z': {
      const ow = node.format === 'u' || node.format === 'z' ? 4 : 8;
      const valueOffsets = sub(view(regions, node.buffers[1] ?? null, ow), offset * ow, (offset + length + 1) * ow);
      const data = view(regions, node.buffers[2] ?? null);
      return make(a, { ...base, valueOffsets, data });
    }
    case '+l':
    case '+L':
    case '+m': {
      const ow = node.format === '+L' ? 8 : 4;
      const valueOffsets = sub(view(regions, node.buffers[1] ?? null, ow), offset * ow, (offset + length + 1) * ow);
      const childType = (type as Arrow.List).children[0]!.type;
      const child = dataOf(a, node.children[0]!, childType, regions);
      return make(a, { ...base, valueOffsets, child });
    }
    case '+s': {
      const fields = (type as Arrow.Struct).children;
      const children = node.children.map((c, i) => dataOf(a, c, fields[i]!.type, regions, offset, length));
      return make(a, { ...base, children });
    }
  }
  if (node.format.startsWith('+w:')) {
    const size = Number(node.format.slice(3));
    const childType = (type as Arrow.FixedSizeList).children[0]!.type;
    const child = dataOf(a, node.children[0]!, childType, regions, offset * size, length * size);
    return make(a, { ...base, child });
  }
  throw new TypeError(`Unsupported Arrow format '${node.format}' for column '${node.name}'`);
}

/** A RecordBatch of `schema` over an exported batch's memory. */
export function batchOf(a: ArrowModule, exported: ExportedBatch, schema: Arrow.Schema): Arrow.RecordBatch {
  const struct = new a.Struct(schema.fields);
  const data = dataOf(a, exported.root, struct, exported.regions);
  return new a.RecordBatch(schema, data as Arrow.Data<Arrow.Struct>);
}

// ---- into Rust ---------------------------------------------------------------------------

function unitLetter(unit: Arrow.TimeUnit): string {
  return 'smun'[unit as number]!;
}

/** The C Data Interface format of an apache-arrow type (dictionaries: of their indices). */
export function formatOf(a: ArrowModule, type: Arrow.DataType, name = ''): string {
  const t = a.DataType;
  if (t.isDictionary(type)) return formatOf(a, type.indices, name);
  if (t.isNull(type)) return 'n';
  if (t.isBool(type)) return 'b';
  if (t.isInt(type)) {
    const letter = { 8: 'c', 16: 's', 32: 'i', 64: 'l' }[type.bitWidth as 8 | 16 | 32 | 64];
    return type.isSigned ? letter : letter.toUpperCase();
  }
  if (t.isFloat(type)) return ['e', 'f', 'g'][type.precision]!;
  if (t.isUtf8(type)) return 'u';
  if (t.isLargeUtf8(type)) return 'U';
  if (t.isBinary(type)) return 'z';
  if (t.isLargeBinary(type)) return 'Z';
  if (t.isFixedSizeBinary(type)) return `w:${type.byteWidth}`;
  if (t.isDate(type)) return type.unit === a.DateUnit.DAY ? 'tdD' : 'tdm';
  if (t.isTime(type)) return `tt${unitLetter(type.unit)}`;
  if (t.isTimestamp(type)) return `ts${unitLetter(type.unit)}:${type.timezone ?? ''}`;
  if (t.isDuration(type)) return `tD${unitLetter(type.unit)}`;
  if (t.isInterval(type)) return ['tiM', 'tiD', 'tin'][type.unit]!;
  if (t.isDecimal(type)) return type.bitWidth === 128 ? `d:${type.precision},${type.scale}` : `d:${type.precision},${type.scale},${type.bitWidth}`;
  if (t.isList(type)) return '+l';
  if (t.isLargeList(type)) return '+L';
  if (t.isFixedSizeList(type)) return `+w:${type.listSize}`;
  if (t.isStruct(type)) return '+s';
  if (t.isMap(type)) return '+m';
  throw new TypeError(`writeParquet: column '${name}' has type ${String(type)}, which cannot be written yet`);
}

function bytesOf(v: ArrayBufferView | undefined | null): Uint8Array | null {
  if (!v || v.byteLength === 0) return null;
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** `length` bits of `bitmap` from bit `offset`, starting at bit 0 (a view when byte-aligned). */
function bitsFrom(bitmap: Uint8Array, offset: number, length: number): Uint8Array {
  const bytes = (length + 7) >> 3;
  if ((offset & 7) === 0) return bitmap.subarray(offset >> 3, (offset >> 3) + bytes);
  const out = new Uint8Array(bytes);
  for (let i = 0; i < length; i++) {
    const j = offset + i;
    if (bitmap[j >> 3]! & (1 << (j & 7))) out[i >> 3]! |= 1 << (i & 7);
  }
  return out;
}

/**
 * `data` described for Rust, with offset 0: apache-arrow has already sliced values and offsets;
 * only bitmaps start at a bit offset, and those are re-based (a view when byte-aligned).
 */
export function importNodeOf(a: ArrowModule, data: Arrow.Data, field: Arrow.Field, metadata: Map<string, string> = field.metadata): ImportNode {
  const t = a.DataType;
  const type = data.type;
  const length = data.length;
  const validity = data.nullCount !== 0 && data.nullBitmap?.length ? bitsFrom(data.nullBitmap, data.offset, length) : null;
  const node: ImportNode = {
    format: formatOf(a, type, field.name),
    name: field.name,
    // A Null column is nothing but nulls, whatever its field says.
    nullable: field.nullable || t.isNull(type),
    length,
    offset: 0,
    buffers: [validity],
    children: [],
  };
  if (metadata.size > 0) node.metadata = Object.fromEntries(metadata);
  if (t.isNull(type)) {
    node.buffers = [];
  } else if (t.isDictionary(type)) {
    node.buffers.push(bytesOf(data.values));
    const dict = data.dictionary!;
    const values = dict.data.length === 1 ? dict.data[0]! : (a.makeVector(dict.toArray()) as Arrow.Vector).data[0]!;
    node.dictionary = [importNodeOf(a, values, new a.Field('values', type.dictionary, true))];
  } else if (t.isBool(type)) {
    node.buffers.push(bitsFrom(data.values as Uint8Array, data.offset, length));
  } else if (t.isUtf8(type) || t.isBinary(type) || t.isLargeUtf8(type) || t.isLargeBinary(type)) {
    node.buffers.push(bytesOf(data.valueOffsets), bytesOf(data.values));
  } else if (t.isList(type) || t.isLargeList(type) || t.isMap(type)) {
    node.buffers.push(bytesOf(data.valueOffsets));
    node.children = [importNodeOf(a, data.children[0]!, type.children[0]!)];
  } else if (t.isStruct(type) || t.isFixedSizeList(type)) {
    node.children = data.children.map((c, i) => importNodeOf(a, c, type.children[i]!));
  } else {
    node.buffers.push(bytesOf(data.values));
  }
  return node;
}

/**
 * A RecordBatch described for Rust (a struct node of its columns, carrying the schema's
 * metadata). `schema` replaces the batch's own, whose metadata a Table's batches may lack.
 */
export function importBatchOf(a: ArrowModule, batch: Arrow.RecordBatch, schema: Arrow.Schema = batch.schema): ImportNode {
  return importNodeOf(a, batch.data, new a.Field('', new a.Struct(schema.fields), false), schema.metadata);
}

/**
 * A batch of no rows of `schema`, to hand a schema over when no batch came. apache-arrow's
 * `new RecordBatch(schema)` has no data to read (`children` of undefined); its builders make a
 * valid empty column of every type, nested and dictionary ones included.
 */
export function emptyBatchOf(a: ArrowModule, schema: Arrow.Schema): Arrow.RecordBatch {
  const children = schema.fields.map((f) => a.vectorFromArray([], f.type).data[0]!);
  const data = make(a, { type: new a.Struct(schema.fields), length: 0, nullCount: 0, children });
  return new a.RecordBatch(schema, data as Arrow.Data<Arrow.Struct>);
}
