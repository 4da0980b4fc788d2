/**
 * The AWS SDK, loaded on first use: `@aws-sdk/client-s3` takes 300+ ms to load, and a
 * program that imports this package for its local or memory backend, or only builds an S3
 * backend, must not pay it. Every module of the wing names commands by their S3 operation
 * (`'HeadObject'`) and imports the SDK's types only; this module alone loads it.
 */
import type * as S3 from '@aws-sdk/client-s3';
import type * as Http from '@smithy/node-http-handler';

/** The SDK's S3 module and the HTTP handler the client is built with (loaded together). */
export interface SdkModule {
  s3: typeof S3;
  http: typeof Http;
}

/** The commands the wing sends: input and output type per S3 operation. */
export interface Commands {
  AbortMultipartUpload: [S3.AbortMultipartUploadCommandInput, S3.AbortMultipartUploadCommandOutput];
  CompleteMultipartUpload: [S3.CompleteMultipartUploadCommandInput, S3.CompleteMultipartUploadCommandOutput];
  CopyObject: [S3.CopyObjectCommandInput, S3.CopyObjectCommandOutput];
  CreateMultipartUpload: [S3.CreateMultipartUploadCommandInput, S3.CreateMultipartUploadCommandOutput];
  DeleteObject: [S3.DeleteObjectCommandInput, S3.DeleteObjectCommandOutput];
  DeleteObjects: [S3.DeleteObjectsCommandInput, S3.DeleteObjectsCommandOutput];
  GetObject: [S3.GetObjectCommandInput, S3.GetObjectCommandOutput];
  HeadBucket: [S3.HeadBucketCommandInput, S3.HeadBucketCommandOutput];
  HeadObject: [S3.HeadObjectCommandInput, S3.HeadObjectCommandOutput];
  ListObjectsV2: [S3.ListObjectsV2CommandInput, S3.ListObjectsV2CommandOutput];
  PutObject: [S3.PutObjectCommandInput, S3.PutObjectCommandOutput];
  UploadPart: [S3.UploadPartCommandInput, S3.UploadPartCommandOutput];
}

export type CommandName = keyof Commands;

let loaded: SdkModule | undefined;
let loading: Promise<SdkModule> | undefined;

/** A CommonJS package imported: its exports are the namespace, or its default. */
function exportsOf<T>(m: unknown, probe: string): T {
  return ((m as Record<string, unknown>)[probe] ? m : (m as { default: T }).default) as T;
}

/** The SDK, imported once (later calls answer from memory). */
export function loadSdk(): Promise<SdkModule> {
  if (loaded) return Promise.resolve(loaded);
  loading ??= Promise.all([import('@aws-sdk/client-s3'), import('@smithy/node-http-handler')]).then(([s3, http]) => {
    loaded ??= { s3: exportsOf<typeof S3>(s3, 'S3Client'), http: exportsOf<typeof Http>(http, 'NodeHttpHandler') };
    return loaded;
  });
  return loading;
}

/**
 * The SDK for the synchronous callers (`unwrap(S3Client)`: the caller holds the SDK's class,
 * so it is loaded already and this costs nothing). The same module instances as loadSdk's:
 * the packages have no ESM entry of their own for `import()` to pick.
 */
export function loadSdkSync(): SdkModule {
  /* eslint-disable @typescript-eslint/no-require-imports */
  loaded ??= { s3: require('@aws-sdk/client-s3') as typeof S3, http: require('@smithy/node-http-handler') as typeof Http };
  /* eslint-enable @typescript-eslint/no-require-imports */
  return loaded;
}

/** A command of the loaded SDK. */
export function command<N extends CommandName>(sdk: SdkModule, name: N, input: Commands[N][0]): { input: unknown } {
  const Command = (sdk.s3 as unknown as Record<string, new (input: unknown) => { input: unknown }>)[`${name}Command`];
  return new Command(input);
}
