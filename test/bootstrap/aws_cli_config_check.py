"""Reads AWS CLI config files the way the AWS CLI does, and applies its `s3` rules; prints one JSON verdict per file.

Usage: aws_cli_config_check.py FILE...

- Parsing: the AWS CLI's own config loader (awscli 1.46.3 from PyPI, which carries botocore as awscli.botocore:
  configloader.load_config, the parser of `aws configure` and of every command, nested `s3 =` sections included).
- Values: the AWS CLI's own runtime checks of the s3 transfer settings (awscli.customizations.s3.transferconfig
  RuntimeConfig.build_config: positive integers, rates ending in B/s). v1's rule for rates is stricter than v2's, so
  a value v1 accepts v2 does too.
- What only AWS CLI v2 has (not on PyPI), as its source states it (aws/aws-cli@2.36.7
  awscli/customizations/s3/transferconfig.py DEFAULTS and SUPPORTED_CHOICES, awscli/topics/s3-config.rst): the known
  keys, the transfer clients, and which keys each client ignores. A key the chosen client ignores is an error here:
  it would be a setting that silently does nothing.
"""

import json
import sys

from awscli.botocore.configloader import load_config
from awscli.customizations.s3.transferconfig import InvalidConfigError, RuntimeConfig

V2_KEYS = {"multipart_threshold", "multipart_chunksize", "max_concurrent_requests", "max_queue_size", "max_bandwidth",
           "preferred_transfer_client", "target_bandwidth", "io_chunksize", "should_stream", "disk_throughput",
           "direct_io"}
V2_CLIENTS = {"auto", "classic", "crt", "default"}
# s3-config.rst: the crt client "Ignores these configuration values"; target_bandwidth, should_stream, disk_throughput
# and direct_io are "only supported when the preferred_transfer_client ... resolves to crt".
IGNORED_BY = {
    "crt": {"max_concurrent_requests", "max_queue_size", "multipart_threshold", "max_bandwidth"},
    "classic": {"target_bandwidth", "should_stream", "disk_throughput", "direct_io"},
}


def check(path):
    problems = []
    profiles = load_config(path).get("profiles", {})
    s3 = profiles.get("default", {}).get("s3")
    if not isinstance(s3, dict):
        return {"file": path, "problems": ["no nested s3 section in [default]"], "s3": None}
    problems += [f"{k}: not an s3 setting of AWS CLI v2" for k in sorted(set(s3) - V2_KEYS)]
    client = s3.get("preferred_transfer_client", "auto")
    if client not in V2_CLIENTS:
        problems.append(f"preferred_transfer_client: {client!r} is none of {sorted(V2_CLIENTS)}")
    problems += [f"{k}: ignored by the {client} transfer client" for k in sorted(set(s3) & IGNORED_BY.get(client, set()))]
    v1_keys = {k: v for k, v in s3.items() if k in RuntimeConfig.defaults()}
    try:
        runtime = RuntimeConfig().build_config(**v1_keys)
    except InvalidConfigError as exc:
        problems.append(str(exc))
        runtime = {}
    return {"file": path, "problems": problems, "s3": s3,
            "runtime": {k: runtime.get(k) for k in v1_keys}}


if __name__ == "__main__":
    print(json.dumps([check(p) for p in sys.argv[1:]]))
