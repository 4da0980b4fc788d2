// The package entry for import: the objects of require('remote-store') (one Store, one set of
// errors for both entries), except the Arrow functions, which are bound here to apache-arrow's
// ES module build, the one an importer holds (src/arrow/functions.ts says why).
// The export list must equal index.js's and index.d.ts's: __test__/exports.spec.ts checks it.
import cjs from './index.js';
import functions from './dist/arrow/functions.js';

const api = { ...cjs, ...functions.bindArrowFunctions(() => import('apache-arrow')) };

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
  NativeUpload,
  nativeAvailable,
  readParquet,
  scanParquet,
  readParquetMetadata,
  writeParquet,
  readDataset,
  scanDataset,
  readDatasetMetadata,
  writeDataset,
} = api;
export default api;
