"""Writes what Ray 2.58's CLIs print, produced by Ray's own formatting code, for the stub `ray` and `serve` commands.

Usage: ray_fixtures.py <out-dir> <app-name>, or ray_fixtures.py --json <app-name>... (every app's files as one JSON
document {app: {file: text}} on stdout: test/serve/ray-fixtures.json, which the tests read, is that document, and
scripts.test.ts checks it against this script's output). Each file is the stdout of one command in one cluster state:
  pg_created.json      ray list placement-groups --detail --format json --filter state!=REMOVED: one Serve replica's
                       placement group still CREATED, holding 4 GPUs (a REMOVED one is filtered out, as the CLI does)
  pg_none.txt          the same command once every group is REMOVED ("No resource in the cluster", not JSON)
  pg_cpu_only.json     the same command with only an unnamed CPU-only group of some other job left
  ray_status_pg.txt    ray status usage while that group holds its GPUs but no actor uses them: "0.0/16.0 GPU (0.0
                       used of 4.0 reserved in placement groups)" - the trap: 0 GPUs "in use"
  ray_status_free.txt  ray status usage with nothing reserved
  serve_status_app.yaml    serve status while the application is still listed (DELETING)
  serve_status_empty.yaml  serve status with no application
  actors_pd.json       ray list actors --format json --detail --filter state=ALIVE: a PD application, its prefill
                       replica on the node of 10.0.1.12 (gpu-0), its decode replica on 10.0.1.13 (gpu-1), the
                       ingress on the head
  nodes.json           ray list nodes --format json --detail --filter state=ALIVE: the head and two GPU nodes
  actors_pd_one_node.json  the same PD application on one machine (a rehearsal): prefill and decode replicas both on
                       the node of 10.0.1.12
  nodes_one_node.json  ray list nodes on that machine: one node, the head, at 10.0.1.12
"""

import json
import os
import sys
import types
from dataclasses import asdict

# do_filter (the State API's filter) lives in a dashboard module that imports the dashboard server's optional
# dependencies (opencensus, aiohttp_cors...), absent from the test venv, only for its HTTP reply helper.
_optional_utils = types.ModuleType("ray.dashboard.optional_utils")
_optional_utils.rest_response = None
sys.modules.setdefault("ray.dashboard.optional_utils", _optional_utils)

import yaml
from ray.autoscaler._private.util import parse_usage
from ray.core.generated import gcs_pb2
from ray.dashboard.state_api_utils import do_filter
from ray.serve.schema import ServeInstanceDetails
from ray.serve.scripts import (
    ServeDeploySchemaDumper,
    process_dict_for_yaml_dump,
)
from ray.util.state.common import (
    ActorState,
    NodeState,
    PlacementGroupState,
    StateResource,
    dict_to_state,
    protobuf_message_to_dict,
)
from ray.util.state.state_cli import (
    AvailableFormat,
    format_list_api_output,
)

PG_ID = "a1" * 18


def placement_group(name, state, pg_id, resources):
    message = gcs_pb2.PlacementGroupTableData(placement_group_id=bytes.fromhex(pg_id), name=name, state=state)
    for _ in range(4):
        bundle = message.bundles.add()
        bundle.unit_resources.update(resources)
    # The dashboard's list_placement_groups: protobuf -> dict -> filter -> the CLI's state objects -> output.
    return protobuf_message_to_dict(message=message, fields_to_decode=["placement_group_id", "creator_job_id", "node_id"])


def list_output(groups):
    rows = do_filter(groups, [("state", "!=", "REMOVED")], PlacementGroupState, detail=True)
    states = [dict_to_state(row, StateResource.PLACEMENT_GROUPS) for row in rows]
    return format_list_api_output(states, schema=PlacementGroupState, format=AvailableFormat.JSON, detail=True)


NODE_IDS = {"10.0.0.5": "aa" * 28, "10.0.1.12": "bb" * 28, "10.0.1.13": "cc" * 28}


def list_rows(rows, schema, resource):
    states = [dict_to_state(row, resource) for row in rows]
    return format_list_api_output(states, schema=schema, format=AvailableFormat.JSON, detail=True)


def actor(name, class_name, ip, n):
    return {
        "actor_id": f"{n:02x}" * 16, "class_name": class_name, "state": "ALIVE", "job_id": "02000000", "name": name,
        "node_id": NODE_IDS[ip], "pid": 1000 + n, "ray_namespace": "serve", "serialized_runtime_env": "{}",
        "required_resources": {}, "death_cause": None, "is_detached": True, "placement_group_id": None,
        "repr_name": "", "num_restarts": "0", "num_restarts_due_to_lineage_reconstruction": "0",
        "num_restarts_due_to_node_preemption": "0", "call_site": None, "label_selector": {}, "fallback_strategy": None,
    }


def node(ip, head):
    return {
        "node_id": NODE_IDS[ip], "node_ip": ip, "is_head_node": head, "state": "ALIVE", "state_message": None,
        "node_name": ip, "resources_total": {"CPU": 192.0} if head else {"CPU": 192.0, "GPU": 8.0},
        "labels": {"ray.io/node-id": NODE_IDS[ip]}, "start_time_ms": 1, "end_time_ms": 0,
    }


def usage_report(usage):
    return "".join(f" {line}\n" for line in parse_usage(usage, verbose=False))


def serve_status(applications):
    details = ServeInstanceDetails(
        controller_info={}, proxy_location="EveryNode", http_options={}, grpc_options={}, proxies={},
        applications=applications,
    )
    status = process_dict_for_yaml_dump(asdict(details._get_status()))
    return yaml.dump(status, Dumper=ServeDeploySchemaDumper, default_flow_style=False, sort_keys=False)


def fixtures(app):
    replica = f"SERVE_REPLICA::{app}#LLMServer:gptoss#x1y2z3"
    gpu = {"GPU": 1.0, "node:10.0.1.12": 0.001}
    created = placement_group(replica, gcs_pb2.PlacementGroupTableData.CREATED, PG_ID, gpu)
    removed = placement_group(replica, gcs_pb2.PlacementGroupTableData.REMOVED, "b2" * 18, gpu)
    cpu_job = placement_group("", gcs_pb2.PlacementGroupTableData.CREATED, "c3" * 18, {"CPU": 2.0})
    pg = f"GPU_group_{PG_ID}"
    files = {
        "pg_created.json": list_output([created, removed]),
        "pg_none.txt": list_output([removed]),
        "pg_cpu_only.json": list_output([cpu_job, removed]),
        "ray_status_pg.txt": usage_report({"CPU": (0.0, 392.0), "GPU": (4.0, 16.0), pg: (0.0, 4.0)}),
        "ray_status_free.txt": usage_report({"CPU": (0.0, 392.0), "GPU": (0.0, 16.0)}),
        "serve_status_app.yaml": serve_status({app: {
            "name": app, "route_prefix": "/", "docs_path": None, "status": "DELETING", "message": "",
            "last_deployed_time_s": 1.0, "deployments": {}, "source": "declarative", "external_scaler_enabled": False,
        }}),
        "serve_status_empty.yaml": serve_status({}),
        "actors_pd.json": list_rows([
            actor(f"SERVE_REPLICA::{app}#Prefill:gptoss#p1", f"ServeReplica:{app}:Prefill:gptoss", "10.0.1.12", 1),
            actor(f"SERVE_REPLICA::{app}#Decode:gptoss#d1", f"ServeReplica:{app}:Decode:gptoss", "10.0.1.13", 2),
            actor(f"SERVE_REPLICA::{app}#OpenAiIngress#i1", f"ServeReplica:{app}:OpenAiIngress", "10.0.0.5", 3),
            actor("SERVE_CONTROLLER_ACTOR", "ServeController", "10.0.0.5", 4),
        ], ActorState, StateResource.ACTORS),
        "actors_pd_one_node.json": list_rows([
            actor(f"SERVE_REPLICA::{app}#Prefill:gptoss#p1", f"ServeReplica:{app}:Prefill:gptoss", "10.0.1.12", 1),
            actor(f"SERVE_REPLICA::{app}#Decode:gptoss#d1", f"ServeReplica:{app}:Decode:gptoss", "10.0.1.12", 2),
            actor(f"SERVE_REPLICA::{app}#OpenAiIngress#i1", f"ServeReplica:{app}:OpenAiIngress", "10.0.1.12", 3),
        ], ActorState, StateResource.ACTORS),
        "nodes_one_node.json": list_rows([node("10.0.1.12", True)], NodeState, StateResource.NODES),
        "nodes.json": list_rows([node("10.0.0.5", True), node("10.0.1.12", False), node("10.0.1.13", False)],
                                NodeState, StateResource.NODES),
    }
    return {name: text if text.endswith("\n") else text + "\n" for name, text in files.items()}


def main(argv):
    if argv[0] == "--json":
        json.dump({app: fixtures(app) for app in argv[1:]}, sys.stdout, indent=1, sort_keys=True)
        print()
        return
    out, app = argv
    for name, text in fixtures(app).items():
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            f.write(text)


if __name__ == "__main__":
    main(sys.argv[1:])
