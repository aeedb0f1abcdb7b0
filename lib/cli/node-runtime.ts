import { PROJECT_NODE } from '../catalog/software';

/**
 * Why this Node.js cannot run the project's commands, as one line; undefined when it can. Run through `npm run` or
 * `npx`, they get the Node that `npm ci` installed into node_modules/.bin (lib/catalog/software.ts, PROJECT_NODE);
 * a bare `node`, or a platform npm has no package for, may give an older one.
 */
export function nodeRuntimeProblem(version: string = process.versions.node, platform: string = process.platform,
  arch: string = process.arch, execPath: string = process.execPath): string | undefined {
  const major = Number(version.split('.')[0]);
  if (major >= PROJECT_NODE.minimumMajor) return undefined;
  const provided = PROJECT_NODE.packages[`${platform}-${arch}`];
  const what = `Node.js ${PROJECT_NODE.minimumMajor} or newer is needed; this is ${version} (${execPath})`;
  return provided
    ? `${what}: \`npm ci\` installs Node ${provided.version} (${provided.name}) into node_modules/.bin, which \`npm run\` and ` +
      '`npx` use: run `npm ci`, then the commands through them (`npm run …`, `npx cdk …`, `npm test`)'
    : `${what}, and the npm registry has no Node ${PROJECT_NODE.minimumMajor} package for ${platform}-${arch}: install ` +
      `Node.js ${PROJECT_NODE.minimumMajor} yourself (https://nodejs.org/en/download) and put it first on PATH`;
}
