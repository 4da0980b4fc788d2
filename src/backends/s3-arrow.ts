/** Kept for the files that import the `s3-arrow` backend from here: the wing lives in `./s3/`. */
export { createS3ArrowBackend, S3ArrowBackend, type _S3ArrowIsBackend, type S3ArrowBackendOptions } from './s3/index';
