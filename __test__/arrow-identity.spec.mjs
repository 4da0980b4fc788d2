// An ES module program: it imports the package (index.mjs) and apache-arrow, which gives it
// apache-arrow's ES module build. Every Arrow object the package hands back must be of that
// build (instanceof, tableToIPC, new Table(batches)); arrow-identity.spec.cjs is the CommonJS twin.
import test from 'ava';
import * as A from 'apache-arrow';
import { createRequire } from 'node:module';
import * as api from 'remote-store';
import { assertReport, identityReport } from './support/arrow-identity.cjs';
import { allTypesTable } from './support/arrow-types.ts';
import { tempDir } from './support/tmp.ts';

test('ESM: the package builds Arrow objects with the importer\'s apache-arrow (ES module build)', async (t) => {
  const cjsArrow = createRequire(import.meta.url)('apache-arrow');
  t.not(A.Table, cjsArrow.Table, 'the two apache-arrow builds have distinct classes: the test means something');
  const { dir, remove } = await tempDir();
  t.teardown(remove);
  const report = await identityReport(A, api, allTypesTable(A), dir);
  assertReport(t, report, 'ESM (import)');
});
