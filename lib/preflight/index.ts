export { createAwsClients, destroyAwsClients, liveAccount } from './aws-account';
export type { AwsClients, ClientOptions } from './aws-account';
export { parseContextArguments } from './cli-arguments';
export { PREFLIGHT_CHECKS } from './checks';
export { PREFLIGHT_IAM_ACTIONS } from './required-permissions';
export { exitCodeFor, formatPreflightReport, runPreflight } from './runner';
export type { AccountReader, BucketLocation, CheckContext, CheckResult, CheckStatus, PreflightCheck } from './types';
export { runPreflightCommand } from './command';
