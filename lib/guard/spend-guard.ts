import { Aws, CfnOutput, CustomResource, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as budgets from 'aws-cdk-lib/aws-budgets';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import type { ClusterConfig } from '../config/cluster-config';
import { SETTINGS } from '../config/schema';
import { STACK_OUTPUTS } from '../catalog/stack-names';
import { REARM_HANDLER_SOURCE, SPEND_GUARD_RESOURCE_TYPE, STOP_TIME_HANDLER_SOURCE } from './stop-time-handler';

/** The EventBridge Scheduler universal target for EC2 StopInstances (format arn:<partition>:scheduler:::aws-sdk:<service>:<action>). */
export const STOP_INSTANCES_TARGET = 'scheduler:::aws-sdk:ec2:stopInstances';
export const MAX_GUARD_HOURS = SETTINGS.maxHours.max;

export interface SpendGuardProps {
  /** The GPU nodes to stop. Only these instances are named in the schedule and its IAM policy. */
  readonly gpuInstances: ec2.CfnInstance[];
  /** Hours after the nodes start (created, replaced, or started again) until they stop. 0 turns the guard off. */
  readonly maxHours: number;
  /**
   * E-mail address for an AWS Budgets cost alarm on the stack's cost-allocation tag.
   * @default - no budget
   */
  readonly budgetEmail?: string;
  /** Cost-allocation tag key the stack's resources carry; it must be activated in the Billing console. */
  readonly costTagKey: string;
  readonly costTagValue: string;
  /**
   * Monthly budget limit, USD; the alarm fires at 80% actual and 100% forecast.
   * @default 1000
   */
  readonly budgetLimitUsd?: number;
}

/**
 * Stops forgotten GPU nodes: a one-time EventBridge Scheduler schedule calls ec2:StopInstances on exactly these
 * instances maxHours after they start. The first stop time is computed at deploy time by a small inline custom
 * resource (a synth-time timestamp would go stale between `cdk synth` and `cdk deploy`, or across later deploys),
 * again whenever the instances are replaced or maxHours changes. Every later start of a GPU node (after the guard
 * stopped it, or any other stop) re-arms it: an EventBridge rule on EC2's state-change event `running` for exactly
 * these instances moves the schedule to maxHours after that start. With budgetEmail, an AWS Budgets alarm adds a
 * second, account-level net.
 */
export class SpendGuard extends Construct {
  /** Off (maxHours=0) or on; bin prints `spendGuardWarnings` when off. */
  readonly enabled: boolean;
  readonly schedule?: scheduler.CfnSchedule;
  /** The rule that re-arms the schedule when a GPU node starts. */
  readonly rearmRule?: events.Rule;
  readonly budget?: budgets.CfnBudget;
  /** The ISO stop time, known at deploy time (a token at synth). */
  readonly stopTimeIso?: string;

  constructor(scope: Construct, id: string, props: SpendGuardProps) {
    super(scope, id);
    validate(props);
    this.enabled = props.maxHours > 0;
    const status = this.enabled
      ? `enabled: stops ${props.gpuInstances.length} GPU node(s) ${props.maxHours} h after they start (re-armed at every start)`
      : 'DISABLED (maxHours=0): the GPU nodes run until the stack is deleted';

    if (this.enabled) {
      const { schedule, stopTimeIso, rearmRule } = this.createStopSchedule(props);
      this.schedule = schedule;
      this.stopTimeIso = stopTimeIso;
      this.rearmRule = rearmRule;
      output(this, STACK_OUTPUTS.spendGuardScheduleName, schedule.ref, 'EventBridge Scheduler schedule that stops the GPU nodes');
      output(this, STACK_OUTPUTS.spendGuardStopTime, stopTimeIso,
        'When the GPU nodes stop (UTC), as of the last deploy; a later start of a node moves it (see the schedule)');
    }
    output(this, STACK_OUTPUTS.spendGuardStatus, status, 'Spend guard status');

    if (props.budgetEmail !== undefined) this.budget = this.createBudget(props, props.budgetEmail);
  }

  private createStopSchedule(props: SpendGuardProps): { schedule: scheduler.CfnSchedule; stopTimeIso: string; rearmRule: events.Rule } {
    const stack = Stack.of(this);
    const logGroup = new logs.LogGroup(this, 'StopTimeLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const fnRole = new iam.Role(this, 'StopTimeFunctionRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Spend guard: computes the stop time; may only write its own logs',
    });
    fnRole.addToPolicy(new iam.PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [logGroup.logGroupArn],
    }));
    const fn = new lambda.Function(this, 'StopTimeFunction', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline(STOP_TIME_HANDLER_SOURCE),
      timeout: Duration.seconds(30),
      memorySize: 128,
      role: fnRole,
      logGroup,
      description: 'Spend guard: returns at(now + maxHours) for the GPU stop schedule',
    });
    // The function must be able to log before CloudFormation invokes it.
    fn.node.addDependency(fnRole);

    const instanceIds = props.gpuInstances.map((i) => i.ref);
    const stopTime = new CustomResource(this, 'StopTime', {
      serviceToken: fn.functionArn,
      resourceType: SPEND_GUARD_RESOURCE_TYPE,
      // InstanceIds make it run after the instances exist, and again whenever one is replaced.
      properties: { InstanceIds: instanceIds, MaxHours: String(props.maxHours) },
    });

    const schedulerRole = new iam.Role(this, 'StopSchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: 'Spend guard: may stop only the GPU nodes of this stack',
    });
    schedulerRole.addToPolicy(new iam.PolicyStatement({
      actions: ['ec2:StopInstances'],
      resources: instanceIds.map((id) => stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: id })),
    }));

    const schedule = new scheduler.CfnSchedule(this, 'StopSchedule', {
      description: `Stops the GPU nodes ${props.maxHours} h after they start (spend guard)`,
      scheduleExpression: stopTime.getAttString('ScheduleExpression'),
      scheduleExpressionTimezone: 'UTC',
      flexibleTimeWindow: { mode: 'OFF' },
      state: 'ENABLED',
      target: {
        arn: `arn:${Aws.PARTITION}:${STOP_INSTANCES_TARGET}`,
        roleArn: schedulerRole.roleArn,
        input: stack.toJsonString({ InstanceIds: instanceIds }),
        // A throttled or failed stop is retried for a day rather than silently dropped.
        retryPolicy: { maximumEventAgeInSeconds: 86400, maximumRetryAttempts: 185 },
      },
    });
    // The role's policy must exist before the schedule can fire.
    schedule.node.addDependency(schedulerRole);

    const rearmRule = this.createRearmRule(props, { schedule, schedulerRole, logGroup, instanceIds });
    return { schedule, stopTimeIso: stopTime.getAttString('StopTimeIso'), rearmRule };
  }

  /**
   * Re-arms the guard at every start of a GPU node: EC2 sends "EC2 Instance State-change Notification" events to
   * EventBridge's default bus (state `running` after a launch or a start); a rule matching exactly these instance
   * ids invokes a function that moves the schedule to maxHours after the event. The function may read and update
   * only this schedule, pass only the scheduler role, and write only the guard's log group.
   */
  private createRearmRule(props: SpendGuardProps, parts: {
    schedule: scheduler.CfnSchedule; schedulerRole: iam.Role; logGroup: logs.LogGroup; instanceIds: string[];
  }): events.Rule {
    const role = new iam.Role(this, 'RearmFunctionRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Spend guard: moves the GPU stop schedule to maxHours after a GPU node starts',
    });
    role.addToPolicy(new iam.PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [parts.logGroup.logGroupArn],
    }));
    role.addToPolicy(new iam.PolicyStatement({
      actions: ['scheduler:GetSchedule', 'scheduler:UpdateSchedule'],
      resources: [parts.schedule.attrArn],
    }));
    // UpdateSchedule passes the target's role again.
    role.addToPolicy(new iam.PolicyStatement({
      actions: ['iam:PassRole'],
      resources: [parts.schedulerRole.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    }));
    const fn = new lambda.Function(this, 'RearmFunction', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline(REARM_HANDLER_SOURCE),
      timeout: Duration.seconds(30),
      memorySize: 128,
      role,
      logGroup: parts.logGroup,
      environment: { SCHEDULE_NAME: parts.schedule.ref, SCHEDULE_GROUP: 'default', MAX_HOURS: String(props.maxHours) },
      description: `Spend guard: a GPU node started, stop the GPU nodes ${props.maxHours} h later`,
    });
    fn.node.addDependency(role);
    const rule = new events.Rule(this, 'RearmOnStart', {
      description: `Spend guard: a GPU node of this stack entered running; stop the GPU nodes ${props.maxHours} h later`,
      eventPattern: {
        source: ['aws.ec2'],
        detailType: ['EC2 Instance State-change Notification'],
        detail: { 'state': ['running'], 'instance-id': parts.instanceIds },
      },
    });
    rule.addTarget(new targets.LambdaFunction(fn, { retryAttempts: 8, maxEventAge: Duration.hours(2) }));
    return rule;
  }

  private createBudget(props: SpendGuardProps, email: string): budgets.CfnBudget {
    const subscribers = [{ subscriptionType: 'EMAIL', address: email }];
    return new budgets.CfnBudget(this, 'Budget', {
      budget: {
        budgetType: 'COST',
        timeUnit: 'MONTHLY',
        budgetLimit: { amount: props.budgetLimitUsd ?? 1000, unit: 'USD' },
        // Cost-allocation tag filter: "user:<key>$<value>" (user-defined tags carry the user: prefix).
        costFilters: { TagKeyValue: [`user:${props.costTagKey}$${props.costTagValue}`] },
      },
      notificationsWithSubscribers: [
        { notification: { notificationType: 'ACTUAL', comparisonOperator: 'GREATER_THAN', threshold: 80, thresholdType: 'PERCENTAGE' }, subscribers },
        { notification: { notificationType: 'FORECASTED', comparisonOperator: 'GREATER_THAN', threshold: 100, thresholdType: 'PERCENTAGE' }, subscribers },
      ],
    });
  }
}

/**
 * Lines the app prints on every synth: loud when the guard is off, and the preconditions of the budget.
 * `hourly` is what the cost review computed for this stack, e.g. "$111.20/h" (never a constant of the default).
 */
export function spendGuardWarnings(config: Pick<ClusterConfig, 'maxHours' | 'budgetEmail' | 'capacityBlock' | 'gpuNodes' | 'gpuInstanceType'>,
  costTagKey: string, hourly: string): string[] {
  const warnings: string[] = [];
  if (config.maxHours <= 0) {
    const bar = '!'.repeat(78);
    warnings.push([bar,
      `!!! SPEND GUARD OFF (maxHours=0): nothing will stop the ${config.gpuNodes} ${config.gpuInstanceType} GPU nodes.`,
      `!!! This stack costs ${hourly} (cost review above) until you run \`cdk destroy\`.`,
      '!!! Set maxHours (default 8) to have the GPU nodes stopped.',
      bar].join('\n'));
  }
  if (config.budgetEmail === undefined) {
    warnings.push('No budget alert: set budgetEmail to be e-mailed when this stack\'s tagged cost passes its budget.');
  } else {
    warnings.push(`Budget alert to ${config.budgetEmail}: activate the cost-allocation tag ${costTagKey} in the ` +
      'Billing console, or the budget sees $0 (tags show up in billing data up to 24 h after activation).');
  }
  if (config.capacityBlock && config.maxHours > 0) {
    warnings.push('Capacity Block: the block is paid up front; the spend guard stops the nodes but refunds nothing.');
  }
  return warnings;
}

function validate(props: SpendGuardProps): void {
  if (!Number.isFinite(props.maxHours) || props.maxHours < 0 || props.maxHours > MAX_GUARD_HOURS) {
    throw new Error(`SpendGuard: maxHours must be a number from 0 (off) to ${MAX_GUARD_HOURS}, got ${props.maxHours}`);
  }
  if (props.maxHours > 0 && props.gpuInstances.length === 0) {
    throw new Error('SpendGuard: gpuInstances must list at least one instance when maxHours > 0');
  }
  if (!Token.isUnresolved(props.costTagKey) && !/^[\w.:/=+\-@ ]{1,128}$/.test(props.costTagKey)) {
    throw new Error(`SpendGuard: costTagKey must be a tag key of 1–128 letters, digits, spaces or _.:/=+-@, got "${props.costTagKey}"`);
  }
  if (props.costTagKey.startsWith('aws:')) {
    throw new Error('SpendGuard: costTagKey must be a user-defined tag; the budget filter uses the user: prefix');
  }
  if (props.budgetLimitUsd !== undefined && !(props.budgetLimitUsd > 0)) {
    throw new Error(`SpendGuard: budgetLimitUsd must be a positive number of USD, got ${props.budgetLimitUsd}`);
  }
  const email = SETTINGS.budgetEmail;
  if (props.budgetEmail !== undefined && !email.pattern?.test(props.budgetEmail)) {
    throw new Error(`SpendGuard: budgetEmail must be ${email.shape}, got "${props.budgetEmail}"`);
  }
}

/** Stable output names, so the cost report and the README can refer to them. */
function output(scope: Construct, id: string, value: string, description: string): void {
  const out = new CfnOutput(scope, id, { value, description });
  out.overrideLogicalId(id);
}
