import { CFN_RESPOND_SOURCE } from '../custom-resources/respond-source';

/** The CloudFormation type of the custom resource that resolves the nodes' AMI once. */
export const PINNED_AMI_RESOURCE_TYPE = 'Custom::PinnedAmi';

/**
 * Source of the inline Lambda behind the PinnedAmi custom resource (Node.js 24, whose runtime ships the AWS SDK for
 * JavaScript v3). CloudFormation invokes it only when the resource is created or its properties change
 * (ParameterName, Generation): "When the template developer makes changes to the properties of a custom resource …
 * CloudFormation sends a request … with RequestType set to Update" (CloudFormation User Guide,
 * crpg-ref-requesttypes-update). A deploy that changes neither never calls it, so the image id it returned at
 * creation stays the stack's, whatever AWS publishes under the parameter meanwhile.
 *
 * Every answer carries a new PhysicalResourceId (`<parameter>@<generation>`): CloudFormation treats a changed id as a
 * replacement (crpg-ref-requesttypes-delete: "If the value returned is different, AWS CloudFormation recognizes the
 * update as a replacement"), so a rollback restores the previous image id from the stack's record instead of asking
 * this function again, and the Delete it sends for the superseded id has nothing to clean up.
 */
export const PINNED_AMI_HANDLER_SOURCE = `'use strict';
const https = require('https');
const http = require('http');
const { SSMClient, GetParameterCommand } = require('@aws-sdk/client-ssm');

const AMI_ID = /^ami-[0-9a-f]{8,17}$/;

async function resolveImage(parameterName) {
  const out = await new SSMClient({}).send(new GetParameterCommand({ Name: parameterName }));
  const value = out.Parameter && out.Parameter.Value;
  if (!AMI_ID.test(value || '')) {
    throw new Error('SSM parameter ' + parameterName + ' holds ' + JSON.stringify(value) + ', not an AMI id (ami-…)');
  }
  return { ImageId: value, ParameterVersion: String(out.Parameter.Version || '') };
}

${CFN_RESPOND_SOURCE}

exports.handler = async (event) => {
  const props = event.ResourceProperties || {};
  console.log(JSON.stringify({ RequestType: event.RequestType, ParameterName: props.ParameterName, Generation: props.Generation }));
  if (event.RequestType === 'Delete') {
    // Nothing was created: the image belongs to whoever published it.
    await respond(event, 'SUCCESS', event.PhysicalResourceId);
    return;
  }
  const physicalId = props.ParameterName + '@' + props.Generation;
  try {
    const data = await resolveImage(props.ParameterName);
    console.log(JSON.stringify({ resolved: data }));
    await respond(event, 'SUCCESS', physicalId, data);
  } catch (e) {
    // Answer FAILED rather than throw: an unanswered custom resource hangs the stack for an hour.
    const reason = 'resolving the AMI from ' + props.ParameterName + ' failed: ' + String((e && (e.name + ': ' + e.message)) || e);
    await respond(event, 'FAILED', event.PhysicalResourceId || physicalId, {}, reason);
  }
};
`;
