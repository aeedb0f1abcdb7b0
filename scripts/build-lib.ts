/**
 * `npm run build:lib`: compiles lib/ into dist/ (JavaScript + type declarations) for other CDK apps, and copies the
 * files lib/ reads at run time (node scripts, serve assets) beside the compiled modules that read them.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = resolve(__dirname, '..');
const outDir = process.argv[2] ? resolve(process.argv[2]) : join(root, 'dist');

function copyRuntimeFiles(dir: string): number {
  let copied = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== '__pycache__') copied += copyRuntimeFiles(path);
    } else if (!name.endsWith('.ts')) {
      cpSync(path, join(outDir, relative(join(root, 'lib'), path)));
      copied += 1;
    }
  }
  return copied;
}

rmSync(outDir, { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', outDir],
  { stdio: 'inherit' });
const copied = copyRuntimeFiles(join(root, 'lib'));
console.log(`built ${relative(root, outDir) || outDir}: compiled lib/ and copied ${copied} runtime files`);
