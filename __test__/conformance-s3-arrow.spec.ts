import { S3ArrowBackend } from '../src/backends/s3-arrow';
import { conformance } from './conformance/suite';
import { s3Fixture } from './support/s3-fixture';

// The same target as conformance-s3.spec.ts with the native data path: s3s-fs stores keys
// as files (no `a` next to `a/b`) and its If-None-Match is check-then-write, so the
// create race runs on moto (conformance-s3-arrow-moto.spec.ts).
conformance({
  name: 's3-arrow on s3s-fs',
  hierarchical: false,
  listsEncodedKeys: false,
  readsFilesNatively: true,
  terminalClose: true,
  fileAndPrefixCoexist: false,
  atomicCreate: false,
  make: s3Fixture('s3s-fs', {}, S3ArrowBackend),
});
