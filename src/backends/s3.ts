/** Kept for the files that import the `s3` backend from here: the wing lives in `./s3/`. */
export {
  abortStreamOn,
  createS3Backend,
  isServerError,
  normalizeEndpoint,
  resolveCaBundle,
  S3_OPTION_NAMES,
  S3Backend,
  s3FactoryOptions,
  type _S3IsBackend,
  type S3BackendOptions,
} from './s3/index';
