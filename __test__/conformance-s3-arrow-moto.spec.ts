import { S3ArrowBackend } from '../src/backends/s3-arrow';
import { conformance } from './conformance/suite';
import { s3Fixture } from './support/s3-fixture';

conformance({
  name: 's3-arrow on moto',
  hierarchical: false,
  readsFilesNatively: true,
  terminalClose: true,
  fileAndPrefixCoexist: true,
  atomicCreate: false, // moto checks If-None-Match, then writes: racing creators can both win
  make: s3Fixture('moto', {}, S3ArrowBackend),
});

conformance({
  name: 's3-arrow on moto (reject_write_under_file_ancestor)',
  hierarchical: false,
  readsFilesNatively: true,
  terminalClose: true,
  fileAndPrefixCoexist: true,
  atomicCreate: false, // moto checks If-None-Match, then writes: racing creators can both win
  rejectsWriteUnderFile: true,
  make: s3Fixture('moto', { reject_write_under_file_ancestor: true }, S3ArrowBackend),
});
