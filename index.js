'use strict';
// The package entry for require(): the compiled TypeScript in dist/.
module.exports = require('./dist/index.js');
