/**
 * Presigned URLs of the S3 backends (`store.presign`, Capability.PRESIGN). Both backends sign
 * with the native addon's S3 client: one signer, the same credentials as every other request
 * (static, or the SDK client's provider), the store's addressing style, and no extra SDK
 * package (`@aws-sdk/s3-request-presigner`). The addon ships for every supported platform, and
 * the local backend needs it too. `s3-arrow` signs with its data-path store; `s3` builds one
 * here, on the first presign: no network I/O either way.
 */
import type { PresignOptions } from '../../backend';
import { NativeObjectStore } from '../../native';
import type { S3Parts } from './data-path';
import { nativeS3Options } from './native-options';

export class NativeSigner {
  readonly #parts: S3Parts;
  #store: NativeObjectStore | undefined;

  constructor(parts: S3Parts) {
    this.#parts = parts;
  }

  presign(key: string, options: PresignOptions): Promise<string> {
    this.#parts.checkOpen();
    this.#store ??= NativeObjectStore.s3(nativeS3Options(this.#parts.settings, this.#parts.sdk));
    return this.#store.presign(key, options.method, options.expiresIn);
  }

  close(): void {
    this.#store?.close();
    this.#store = undefined;
  }
}
