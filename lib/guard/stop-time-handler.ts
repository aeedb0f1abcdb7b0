import { CFN_RESPOND_SOURCE } from '../custom-resources/respond-source';

/** The CloudFormation type of the spend guard's stop-time custom resource; the cost review reads its MaxHours. */
export const SPEND_GUARD_RESOURCE_TYPE = 'Custom::SpendGuardStopTime';

/**
 * Source of the inline Lambda behind the spend guard's custom resource. It runs at deploy time, after the GPU
 * instances exist, and returns the one-time EventBridge Scheduler expression `at(yyyy-mm-ddThh:mm:ss)` (UTC)
 * maxHours from now, plus the same instant in ISO 8601 for the stack output.
 *
 * Kept dependency-free (no cfn-response module, no SDK) so it fits Code.fromInline and runs unchanged in a test
 * vm; CloudFormation passes every custom-resource property as a string, hence Number(MaxHours).
 */
export const STOP_TIME_HANDLER_SOURCE = `'use strict';
const https = require('https');
const http = require('http');

function stopTime(nowMs, maxHours) {
  const hours = Number(maxHours);
  if (!Number.isFinite(hours) || hours <= 0) throw new Error('MaxHours must be a positive number, got ' + maxHours);
  // at() has minute precision: round up so the nodes never stop before maxHours have passed.
  const stop = new Date(Math.ceil((nowMs + hours * 3600000) / 60000) * 60000);
  const local = stop.toISOString().slice(0, 19);
  return { ScheduleExpression: 'at(' + local + ')', StopTimeIso: local + 'Z' };
}

${CFN_RESPOND_SOURCE}

exports.handler = async (event) => {
  console.log(JSON.stringify({ RequestType: event.RequestType, ResourceProperties: event.ResourceProperties }));
  try {
    const data = event.RequestType === 'Delete' ? {} : stopTime(Date.now(), event.ResourceProperties.MaxHours);
    await respond(event, 'SUCCESS', event.PhysicalResourceId || 'spend-guard-stop-time', data);
  } catch (e) {
    // Answer FAILED rather than throw: an unanswered custom resource hangs the stack for an hour.
    await respond(event, 'FAILED', event.PhysicalResourceId || 'spend-guard-stop-time', {}, String((e && e.message) || e));
  }
};
exports.stopTime = stopTime;
`;

/**
 * Source of the inline Lambda that re-arms the spend guard whenever a GPU node starts (Node.js 24, whose runtime
 * ships the AWS SDK for JavaScript v3). An EventBridge rule sends it EC2's "EC2 Instance State-change Notification"
 * with state `running` for exactly the GPU instances (EC2 User Guide, monitoring-instance-state-changes): at
 * creation, and after every start (`aws ec2 start-instances` after the guard stopped them, a console start).
 *
 * It moves the stop schedule to at(event time + MAX_HOURS), rounded up to the minute, and enables it. UpdateSchedule
 * "uses all values, including empty values, specified in the request and overrides the existing schedule", and AWS
 * recommends calling GetSchedule first (EventBridge Scheduler API Reference, UpdateSchedule): every other field is
 * copied from the schedule as it is, so the target, its role and input stay what the stack made them.
 */
export const REARM_HANDLER_SOURCE = `'use strict';
const { SchedulerClient, GetScheduleCommand, UpdateScheduleCommand } = require('@aws-sdk/client-scheduler');

/** The same rounding as the stop-time custom resource: never earlier than MAX_HOURS after the start. */
function stopExpression(startMs, maxHours) {
  const hours = Number(maxHours);
  if (!Number.isFinite(hours) || hours <= 0) throw new Error('MAX_HOURS must be a positive number, got ' + maxHours);
  const stop = new Date(Math.ceil((startMs + hours * 3600000) / 60000) * 60000);
  return 'at(' + stop.toISOString().slice(0, 19) + ')';
}

exports.handler = async (event) => {
  const detail = event.detail || {};
  const name = process.env.SCHEDULE_NAME;
  const group = process.env.SCHEDULE_GROUP || 'default';
  if (detail.state !== 'running') {
    console.log(JSON.stringify({ ignored: detail }));
    return { ignored: true };
  }
  const started = Date.parse(event.time);
  const expression = stopExpression(Number.isFinite(started) ? started : Date.now(), process.env.MAX_HOURS);
  const client = new SchedulerClient({});
  const current = await client.send(new GetScheduleCommand({ Name: name, GroupName: group }));
  const update = {
    Name: name,
    GroupName: group,
    ScheduleExpression: expression,
    ScheduleExpressionTimezone: 'UTC',
    State: 'ENABLED',
    FlexibleTimeWindow: current.FlexibleTimeWindow,
    Target: current.Target,
  };
  for (const key of ['Description', 'StartDate', 'EndDate', 'KmsKeyArn', 'ActionAfterCompletion']) {
    if (current[key] !== undefined) update[key] = current[key];
  }
  await client.send(new UpdateScheduleCommand(update));
  const out = { instance: detail['instance-id'], started: event.time, previous: current.ScheduleExpression, now: expression };
  console.log(JSON.stringify(out));
  return out;
};
exports.stopExpression = stopExpression;
`;
