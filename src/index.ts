/**
 * remote-store: one storage API for local directories, memory and S3.
 * See README.md for a tour.
 */
export { Store, type WriteOptions, type ListFilesOptions, type StoreOptions, type StorePresignOptions } from './store';
export type { WriteAttributes } from './write-attributes';
export { Registry, type BackendFactory, type BackendContext, type BackendRegistration } from './registry';
export { RegistryConfig, resolveEnv, ConfigError, type BackendConfig, type StoreProfile, type FromFileOptions } from './config';
export { Capability, CapabilitySet } from './capabilities';
export { Secret } from './secret';
export { RetryPolicy, type RetryPolicyOptions } from './retry';
export {
  RemoteStoreError,
  NotFound,
  AlreadyExists,
  PermissionDenied,
  InvalidPath,
  CapabilityNotSupported,
  DirectoryNotEmpty,
  BackendUnavailable,
  InvalidFormat,
  AbortError,
  type ErrorCode,
} from './errors';
export type { Backend, BackendWriteOptions, PresignOptions, WriteContent, ProgressCallback, SignalOptions, Unwrappable } from './backend';
export type { FileInfo, FolderEntry, FolderInfo, WriteResult, ContentDigest, ChildEntry } from './models';
export { LocalBackend, type LocalBackendOptions } from './backends/local';
export { MemoryBackend } from './backends/memory';
export { S3Backend, type S3BackendOptions } from './backends/s3/index';
export { S3ArrowBackend, type S3ArrowBackendOptions } from './backends/s3/index';
export {
  NativeObjectStore,
  NativeUpload,
  nativeAvailable,
  type NativeS3Options,
  type NativeTuning,
  type NativeCredentials,
  type NativePutOptions,
  type NativeUploadOptions,
  type NativePutResult,
  type NativeHeadResult,
  type NativeByteRange,
  type NativeWriteDefaults,
  type NativeErrorCode,
  type NativeErrorFields,
} from './native';
import { requiredArrow } from './arrow/functions';

export {
  type ReadParquetOptions,
  type WriteParquetOptions,
  type ParquetMetadata,
  type ParquetColumnChunk,
  type ParquetFilter,
  type FilterTerm,
  type FilterOp,
  type FilterValue,
  type ParquetCompression,
  type ParquetEncodingOptions,
} from './arrow/parquet';
// The Arrow functions build with the caller's apache-arrow: these use its CommonJS build, and
// index.mjs binds the same functions to its ES module build (src/arrow/functions.ts).

/** A whole Parquet file (or the selected part of it) as one apache-arrow Table. */
export const readParquet = requiredArrow.readParquet;
/** The record batches of a Parquet file, one at a time, in bounded memory; stop early by breaking out of the loop. */
export const scanParquet = requiredArrow.scanParquet;
/** The footer of a Parquet file: schema, row groups, column chunks and their statistics. */
export const readParquetMetadata = requiredArrow.readParquetMetadata;
/**
 * Writes a Table, a RecordBatch or a (possibly async) iterable of batches as a Parquet file,
 * streamed to the store one row group at a time. `overwrite` works as for `write`; a failing
 * source writes nothing.
 */
export const writeParquet = requiredArrow.writeParquet;
/** A dataset (a folder or glob of Parquet files, hive-partitioned or not) as one apache-arrow Table. */
export const readDataset = requiredArrow.readDataset;
/** The record batches of a dataset, one at a time, in path order, in bounded memory; stop early by breaking out of the loop. */
export const scanDataset = requiredArrow.scanDataset;
/** What a dataset holds — unified schema, files, footer row counts — from its listing and footers; no data is read. */
export const readDatasetMetadata = requiredArrow.readDatasetMetadata;
/**
 * Writes a Table, a RecordBatch or a (possibly async) iterable of batches as a dataset folder,
 * hive-partitioned by `partitionBy`; nothing is committed unless the whole input was written.
 */
export const writeDataset = requiredArrow.writeDataset;
export type { DatasetMetadata, ReadDatasetOptions, WriteDatasetOptions, DatasetProgress } from './arrow/dataset';
