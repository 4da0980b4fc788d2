#!/usr/bin/env node
'use strict';
// The AWS SDK prints an 8-line NodeVersionSupportWarning on Node < 22 the first time a client is
// made. It is meant for developers of programs on the SDK; a user of this command can do nothing
// with it, so the command turns it off for its own process (unless the user set the variable).
// The library itself leaves the process's warnings alone.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
require('../dist/cli/main.js')
  .main(process.argv)
  .then((code) => {
    process.exitCode = code;
  });
