// The types of the package entry for import (index.mjs): the names of index.d.ts, plus the
// default export, which is the same object of exports.
import * as api from './dist/index.js';
export * from './dist/index.js';
export default api;
