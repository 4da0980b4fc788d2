// The package entry for import: the same objects as require('remote-store').
import cjs from './index.js';

export const {
  Store,
  Registry,
  RegistryConfig,
  resolveEnv,
  ConfigError,
  Capability,
  CapabilitySet,
  Secret,
  RetryPolicy,
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
  LocalBackend,
  MemoryBackend,
  S3Backend,
  S3ArrowBackend,
  NativeObjectStore,
  readParquet,
  scanParquet,
  readParquetMetadata,
  writeParquet,
} = cjs;
export default cjs;
