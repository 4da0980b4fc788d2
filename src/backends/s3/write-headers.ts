/**
 * What every write of the S3 backends carries, on both data paths: the store's write defaults
 * (`client_options.s3_additional_kwargs`, normalised by ./client-options.ts: encryption, ACL,
 * storage class, content headers) overridden by the write's own attributes (WriteOptions).
 *
 * The native path receives the defaults once (`writeDefaults` of the native store; its HTTP layer
 * adds them to PutObject, CreateMultipartUpload and CopyObject) and each write's attributes with
 * the write. The SDK path gets the merged parameters from here for every command.
 *
 * One content-type rule on both paths: an object's Content-Type is what the write (or the
 * store's defaults) gave, else the server's default. Neither path invents one: the AWS SDK would
 * send `application/octet-stream` with every PutObject, object_store sends nothing, and the two
 * backends would report different types for the same write.
 */
import type { ObjectCannedACL, S3Client, ServerSideEncryption, StorageClass } from '@aws-sdk/client-s3';
import type { WriteAttributes } from '../../write-attributes';
import type { S3WriteDefaults } from './client-options';

/** Parameters of PutObject and CreateMultipartUpload (AWS SDK names). */
export interface SdkObjectHeaders {
  ServerSideEncryption?: ServerSideEncryption;
  SSEKMSKeyId?: string;
  BucketKeyEnabled?: boolean;
  // Checked by ./client-options.ts and ../../write-attributes.ts; a server may know more classes than the SDK's list.
  ACL?: ObjectCannedACL;
  StorageClass?: StorageClass;
  ContentType?: string;
  CacheControl?: string;
  ContentDisposition?: string;
  ContentEncoding?: string;
}

/** Parameters of CopyObject beyond source and target (AWS SDK names). */
export type SdkCopyHeaders = Pick<SdkObjectHeaders, 'ServerSideEncryption' | 'SSEKMSKeyId' | 'BucketKeyEnabled' | 'ACL' | 'StorageClass'>;

/** What a HeadObject of a copy's source says that a copy may have to carry over. */
export interface SourceAttributes {
  ContentType?: string;
  CacheControl?: string;
  ContentDisposition?: string;
  ContentEncoding?: string;
  StorageClass?: string;
  Metadata?: Record<string, string>;
}

function defined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/** The headers of a write that creates an object: the write's attributes over the store's defaults. */
export function objectHeaders(defaults: S3WriteDefaults, attributes: WriteAttributes | undefined): SdkObjectHeaders {
  const a = attributes ?? {};
  return defined({
    ServerSideEncryption: defaults.serverSideEncryption,
    SSEKMSKeyId: defaults.sseKmsKeyId,
    BucketKeyEnabled: defaults.bucketKeyEnabled,
    ACL: defaults.acl as ObjectCannedACL | undefined,
    StorageClass: (a.storageClass ?? defaults.storageClass) as StorageClass | undefined,
    ContentType: a.contentType ?? defaults.contentType,
    CacheControl: a.cacheControl ?? defaults.cacheControl,
    ContentDisposition: a.contentDisposition ?? defaults.contentDisposition,
    ContentEncoding: a.contentEncoding ?? defaults.contentEncoding,
  });
}

/**
 * The headers of a CopyObject (whose MetadataDirective COPY keeps the source's content headers
 * and user metadata): the store's encryption and ACL defaults, and a storage class. S3 gives a
 * copy the STANDARD class unless told otherwise, so the source's class is carried over unless
 * the store's defaults name one. Encryption is the store's (or the bucket's default), as for
 * any write.
 */
export function copyHeaders(defaults: S3WriteDefaults, source: SourceAttributes): SdkCopyHeaders {
  return defined({
    ServerSideEncryption: defaults.serverSideEncryption,
    SSEKMSKeyId: defaults.sseKmsKeyId,
    BucketKeyEnabled: defaults.bucketKeyEnabled,
    ACL: defaults.acl as ObjectCannedACL | undefined,
    StorageClass: (defaults.storageClass ?? (source.StorageClass === 'STANDARD' ? undefined : source.StorageClass)) as StorageClass | undefined,
  });
}

const SERVER_DEFAULT_TYPES = new Set(['binary/octet-stream', 'application/octet-stream']);

/**
 * Whether a copy of `source` needs CopyObject with the headers above (the SDK path) rather than
 * object_store's copy, which sends only the store's defaults: the source's storage class would
 * be lost; and a create-only copy there is a multipart upload with UploadPartCopy, which keeps
 * neither content headers nor user metadata (with content defaults in the store, it would take
 * the store's content headers instead of the source's).
 */
export function copyNeedsHeaders(defaults: S3WriteDefaults, source: SourceAttributes, createOnly: boolean): boolean {
  if (defaults.storageClass === undefined && source.StorageClass !== undefined && source.StorageClass !== 'STANDARD') return true;
  if (!createOnly) return false;
  return (
    [defaults.contentType, defaults.cacheControl, defaults.contentDisposition, defaults.contentEncoding].some((v) => v !== undefined) ||
    Object.keys(source.Metadata ?? {}).length > 0 ||
    (source.ContentType !== undefined && !SERVER_DEFAULT_TYPES.has(source.ContentType)) ||
    [source.CacheControl, source.ContentDisposition, source.ContentEncoding].some((v) => v !== undefined)
  );
}

/** The commands whose request body is object data. */
const DATA_COMMANDS = new Set(['PutObjectCommand', 'UploadPartCommand']);

/**
 * Makes an SDK client write as the native path does:
 * - a PutObject without ContentType goes out without the `application/octet-stream` the SDK
 *   adds, so the server's default applies (the content-type rule above);
 * - object data is sent as `UNSIGNED-PAYLOAD`, as object_store sends it. Over plain HTTP the
 *   SDK's SigV4 signer hashes the whole body with SHA-256 on the JS thread first: 8 MiB parts
 *   held the event loop 40–85 ms each. The signer takes a payload hash set beforehand.
 */
export function applyWriteRules(client: S3Client): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const headers = (args.request as { headers?: Record<string, string> } | undefined)?.headers;
      if (headers && DATA_COMMANDS.has(context.commandName ?? '')) {
        headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
        if (context.commandName === 'PutObjectCommand' && (args.input as { ContentType?: string }).ContentType === undefined) {
          for (const name of Object.keys(headers)) if (name.toLowerCase() === 'content-type') delete headers[name];
        }
      }
      return next(args);
    },
    { step: 'build', name: 'remoteStoreWriteRules', override: true },
  );
}
