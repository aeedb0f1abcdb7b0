/**
 * The reply every inline custom-resource Lambda of this app sends CloudFormation, as JavaScript source to embed in
 * each handler (an inline Lambda is one file): `respond(event, status, physicalId, data, reason)` PUTs the response
 * object to the pre-signed ResponseURL (CloudFormation User Guide, "Custom resource response objects"). It needs
 * `https` and `http` in scope.
 */
export const CFN_RESPOND_SOURCE = `function respond(event, status, physicalId, data, reason) {
  const body = JSON.stringify({
    Status: status,
    Reason: reason || 'See CloudWatch Logs',
    PhysicalResourceId: physicalId,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    Data: data || {},
  });
  const url = new URL(event.ResponseURL);
  // CloudFormation's pre-signed URL is always https; plain http only ever serves a local test endpoint.
  const transport = url.protocol === 'http:' ? http : https;
  return new Promise((resolve, reject) => {
    const req = transport.request(url, {
      method: 'PUT',
      headers: { 'content-type': '', 'content-length': Buffer.byteLength(body) },
    }, (res) => { res.resume(); res.on('end', resolve); });
    req.on('error', reject);
    req.end(body);
  });
}`;
