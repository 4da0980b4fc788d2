import { conformance } from './conformance/suite';
import { s3Fixture } from './support/s3-fixture';

// s3s-fs stores keys as files: a key `a` and a key `a/b` cannot coexist there; and it
// checks If-None-Match before writing without a lock, so the 16-writer create race runs
// on moto (conformance-s3-moto.spec.ts) and in __test__/s3/s3-backend.spec.ts.
conformance({
  name: 's3 on s3s-fs',
  hierarchical: false,
  listsEncodedKeys: false,
  terminalClose: true,
  fileAndPrefixCoexist: false,
  atomicCreate: false,
  make: s3Fixture('s3s-fs'),
});
