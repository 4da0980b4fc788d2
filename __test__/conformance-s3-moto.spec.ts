import { conformance } from './conformance/suite';
import { s3Fixture } from './support/s3-fixture';

// moto is a true flat namespace: it runs the cases s3s-fs cannot hold.
conformance({
  name: 's3 on moto',
  hierarchical: false,
  terminalClose: true,
  fileAndPrefixCoexist: true,
  atomicCreate: false, // moto checks If-None-Match, then writes: racing creators can both win
  make: s3Fixture('moto'),
});

conformance({
  name: 's3 on moto (reject_write_under_file_ancestor)',
  hierarchical: false,
  terminalClose: true,
  fileAndPrefixCoexist: true,
  atomicCreate: false, // moto checks If-None-Match, then writes: racing creators can both win
  rejectsWriteUnderFile: true,
  make: s3Fixture('moto', { reject_write_under_file_ancestor: true }),
});
