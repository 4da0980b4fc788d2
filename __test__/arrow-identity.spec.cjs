'use strict';
// A CommonJS program: it requires the package (index.js) and apache-arrow, which gives it
// apache-arrow's CommonJS build. Every Arrow object the package hands back must be of that
// build (instanceof, tableToIPC, new Table(batches)); arrow-identity.spec.mjs is the ESM twin.
const test = require('ava');
const A = require('apache-arrow');
const api = require('remote-store');
const { assertReport, identityReport } = require('./support/arrow-identity.cjs');
const { allTypesTable } = require('./support/arrow-types.ts');
const { tempDir } = require('./support/tmp.ts');

test('CJS: the package builds Arrow objects with the requirer\'s apache-arrow (CommonJS build)', async (t) => {
  const { dir, remove } = await tempDir();
  t.teardown(remove);
  const report = await identityReport(A, api, allTypesTable(A), dir);
  assertReport(t, report, 'CJS (require)');
});
