import { ClusterConfig } from '../config/cluster-config';
import { noCredentialsLine } from '../cli/aws';
import { classifyAwsError } from '../cli/aws-errors';
import { ProfileLookup } from '../cli/aws-profile';
import { PREFLIGHT_CHECKS } from './checks';
import { PREFLIGHT_IAM_ACTIONS } from './required-permissions';
import { AccountReader, CheckResult, PreflightCheck, result } from './types';

export interface PreflightInputs {
  readonly config: ClusterConfig;
  readonly account: AccountReader;
  readonly now?: Date;
  readonly checks?: readonly PreflightCheck[];
  /** The environment and files the SDK read credentials from: to name AWS_PROFILE's profile when it is missing. */
  readonly profileLookup?: ProfileLookup;
}

/** The check that stands for "no credentials" or "no network": every other check would fail the same way. */
export const ACCESS_CHECK = 'AWS access';

/**
 * Runs the rules one after another. Without credentials or network every rule would fail the same way, so the
 * first such error ends the run with a single line saying what is missing instead of a wall of repeats.
 */
export async function runPreflight(inputs: PreflightInputs): Promise<CheckResult[]> {
  const context = { config: inputs.config, account: inputs.account, now: inputs.now ?? new Date() };
  const results: CheckResult[] = [];
  for (const check of inputs.checks ?? PREFLIGHT_CHECKS) {
    try {
      const verdict = await check.run(context);
      if (verdict) results.push(verdict);
    } catch (error) {
      const failure = classifyAwsError(error);
      if (failure.kind === 'credentials') return [noCredentials(failure.code, failure.message, inputs.profileLookup)];
      if (failure.kind === 'network') return [unreachable(inputs.account.region, failure.code, failure.message)];
      const hint = failure.kind === 'denied' ? ` (preflight needs read-only access: ${PREFLIGHT_IAM_ACTIONS.join(', ')})` : '';
      results.push(result(check.name, 'fail', `AWS answered ${failure.code}: ${failure.message}${hint}`, 'live'));
    }
  }
  return results;
}

function noCredentials(code: string, message: string, lookup?: ProfileLookup): CheckResult {
  const needs = 'preflight needs read-only EC2 access (ec2:Describe*) and servicequotas:Get*';
  const detail = code === 'CredentialsProviderError' || /could not load credentials/i.test(message)
    ? `${noCredentialsLine(lookup)}; ${needs}`
    : `AWS rejected the credentials (${code}: ${message}): ${needs}; set AWS_PROFILE or run \`aws configure\` / \`aws sso login\``;
  return result(ACCESS_CHECK, 'fail', detail, 'live');
}

/** The failure that ended the run before any check (no credentials, no network), if that is what happened. */
export function accessFailure(results: readonly CheckResult[]): string | undefined {
  return results.find((r) => r.name === ACCESS_CHECK && r.status === 'fail')?.detail;
}

function unreachable(region: string, code: string, message: string): CheckResult {
  return result(ACCESS_CHECK, 'fail', `cannot reach the AWS API for ${region} (${code}${message && !message.includes(code) ? `: ${message}` : ''}); ` +
    'check the network, a proxy, or AWS_ENDPOINT_URL settings', 'live');
}

/** 0 when nothing fails (warnings included), 1 when something fails. Configuration errors (2) never get here. */
export function exitCodeFor(results: readonly CheckResult[]): number {
  return results.some((r) => r.status === 'fail') ? 1 : 0;
}

/** The human report: a header naming what was checked and where, one line per rule, then a tally. */
export function formatPreflightReport(config: ClusterConfig, results: readonly CheckResult[]): string {
  const capacity = config.capacityReservationId === undefined ? 'on demand'
    : `${config.capacityBlock ? 'Capacity Block' : 'capacity reservation'} ${config.capacityReservationId}`;
  const head = config.headInstanceType === 'none' ? 'head on the first GPU node' : `head ${config.headInstanceType}`;
  const lines = [
    `preflight: ${config.stackName} in ${config.region} (${config.availabilityZone}): ` +
      `${config.gpuNodes} × ${config.gpuInstanceType}, ${capacity}, ${head}`,
  ];
  const width = Math.max(...results.map((r) => r.name.length), 0);
  for (const r of results) {
    lines.push(`${r.status.toUpperCase().padEnd(4)}  ${r.name.padEnd(width)}  [${config.region}] ${r.detail}  (${r.source})`);
  }
  const count = (status: string) => results.filter((r) => r.status === status).length;
  const failed = count('fail');
  lines.push(`${count('pass')} passed, ${count('warn')} warning${count('warn') === 1 ? '' : 's'}, ${failed} failed` +
    (failed > 0 ? ': fix the failures before `cdk deploy`'
      : config.capacityReservationId === undefined
        ? ': nothing found that blocks a deploy (on-demand capacity is only known at launch; InsufficientInstanceCapacity stays possible)'
        : ': nothing found that blocks a deploy'));
  return lines.join('\n');
}
