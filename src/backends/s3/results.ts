/**
 * S3 answers → our models (FileInfo, WriteResult), the same for both data paths: an ETag is
 * compared and shown in one spelling, a digest is read from the same checksum headers.
 */
import type { HeadObjectCommandOutput } from '@aws-sdk/client-s3';
import type { BackendWriteOptions } from '../../backend';
import type { ContentDigest, FileInfo, WriteResult } from '../../models';
import { baseName } from '../../path';

/** The checksum fields S3 answers carry (HeadObject, PutObject, CompleteMultipartUpload). */
export interface ChecksumFields {
  ChecksumSHA256?: string;
  ChecksumSHA1?: string;
  ChecksumCRC32?: string;
  ChecksumCRC32C?: string;
  ChecksumCRC64NVME?: string;
}

/** What a committed write answered, whichever path wrote it (SDK field names). */
export interface PutAnswer extends ChecksumFields {
  ETag?: string;
  VersionId?: string;
}

/** The native path's checksum (`{algorithm, value}`, base64) as the SDK's answer field. */
export function checksumFields(checksum: { algorithm: string; value: string } | undefined): ChecksumFields {
  const field = checksum && CHECKSUM_FIELDS[checksum.algorithm];
  return field ? { [field]: checksum.value } : {};
}

const CHECKSUM_FIELDS: Record<string, keyof ChecksumFields> = {
  sha256: 'ChecksumSHA256',
  sha1: 'ChecksumSHA1',
  crc32: 'ChecksumCRC32',
  crc32c: 'ChecksumCRC32C',
  crc64nvme: 'ChecksumCRC64NVME',
};

/** Unquoted, lowercase, without the weak marker: the spelling compared and shown. */
export function normalizeEtag(raw: string | undefined): string | undefined {
  return raw ? raw.replace(/^W\//, '').replace(/"/g, '').toLowerCase() : undefined;
}

export function digestOf(h: ChecksumFields): ContentDigest | undefined {
  const choices: Array<[string, string | undefined]> = [
    ['sha256', h.ChecksumSHA256],
    ['sha1', h.ChecksumSHA1],
    ['crc32', h.ChecksumCRC32],
    ['crc32c', h.ChecksumCRC32C],
    ['crc64nvme', h.ChecksumCRC64NVME],
  ];
  for (const [algorithm, b64] of choices) {
    // Multipart objects carry a checksum-of-checksums `xxx-N`; not a content digest.
    if (b64 && !b64.includes('-')) return { algorithm, value: Buffer.from(b64, 'base64').toString('hex') };
  }
  return undefined;
}

export function fileInfoFromHead(key: string, h: HeadObjectCommandOutput): FileInfo {
  const info: FileInfo = {
    path: key,
    name: baseName(key),
    size: h.ContentLength ?? 0,
    modifiedAt: h.LastModified ?? new Date(0),
  };
  const etag = normalizeEtag(h.ETag);
  if (etag) info.etag = etag;
  const digest = digestOf(h);
  if (digest) info.digest = digest;
  if (h.ContentType) info.contentType = h.ContentType;
  const metadata = h.Metadata ?? {};
  if (Object.keys(metadata).length > 0) info.metadata = metadata;
  return info;
}

/** A FileInfo from a listing entry. */
export function listedFile(objKey: string, o: { Size?: number; LastModified?: Date; ETag?: string }): FileInfo {
  const info: FileInfo = { path: objKey, name: baseName(objKey), size: o.Size ?? 0, modifiedAt: o.LastModified ?? new Date(0) };
  const etag = normalizeEtag(o.ETag);
  if (etag) info.etag = etag;
  return info;
}

/**
 * The WriteResult of a committed write, from the write's own answer (DESIGN §8 "Writes"): etag,
 * version and a digest when the answer carries a whole-object checksum. S3 answers a PUT
 * without Last-Modified, so `lastModified` is absent: only a HEAD would give it.
 */
export function writeResult(key: string, size: number, put: PutAnswer, options: BackendWriteOptions): WriteResult {
  const result: WriteResult = { path: key, size, source: 'native' };
  const etag = normalizeEtag(put.ETag);
  if (etag) result.etag = etag;
  const digest = digestOf(put);
  if (digest) result.digest = digest;
  if (put.VersionId) result.versionId = put.VersionId;
  if (options.metadata && Object.keys(options.metadata).length > 0) result.metadata = { ...options.metadata };
  return result;
}
