// Preloaded with `node -r` to run this project's TypeScript for the cdk CLI (cdk.json "app"). It compiles .ts
// files with esbuild (which tsx ships) through a `.ts` extension handler and leaves module resolution to Node: a
// full TypeScript loader hooks every require(), and a synth makes thousands of them inside aws-cdk-lib. Compiled
// output is cached by content, since one synchronous esbuild call per file costs more than the rest of the
// loading. Type checking is `npm run build`'s job. scripts/bench-synth.sh measures the effect.
'use strict';
// Caches V8 bytecode for every module compiled after this point (aws-cdk-lib alone is most of a synth's
// compile time on a fresh process); Node 20 has no built-in compile cache.
require('v8-compile-cache');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

// In the project, not a shared temp folder: compiled code found here is run with the deployer's credentials.
const cacheDir = path.join(__dirname, '..', require('../package.json').config.cacheDir, 'ts');
const options = { loader: 'ts', format: 'cjs', target: 'node20', sourcemap: 'inline' };
const compiler = `esbuild@${require('esbuild/package.json').version} ${JSON.stringify(options)}`;
let esbuild;

require.extensions['.ts'] = (module, filename) => {
  const source = fs.readFileSync(filename, 'utf8');
  const key = crypto.createHash('sha256').update(`${compiler}\0${filename}\0${source}`).digest('hex');
  const cached = path.join(cacheDir, `${key}.js`);
  let code;
  try {
    code = fs.readFileSync(cached, 'utf8');
  } catch {
    esbuild ??= require('esbuild');
    code = esbuild.transformSync(source, { ...options, sourcefile: filename }).code;
    fs.mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
    const partial = `${cached}.${process.pid}.tmp`;
    fs.writeFileSync(partial, code);
    fs.renameSync(partial, cached);
  }
  module._compile(code, filename);
};
