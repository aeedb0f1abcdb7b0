# The cluster as STUB_CLUSTER describes it ("nodes=N gpus=G mine=M"); this node is STUB_IP.
import os
import re


def init(address=None, **kwargs):
    if os.environ.get("STUB_CLUSTER_DOWN") == "1":
        raise ConnectionError(f"could not connect to {address}")


def nodes():
    spec = dict(re.findall(r"(\w+)=(-?\d+)", os.environ.get("STUB_CLUSTER", "nodes=3 gpus=16 mine=8")))
    count, gpus, mine = int(spec["nodes"]), int(spec["gpus"]), int(spec["mine"])
    result = []
    if mine >= 0:
        result.append({"Alive": True, "NodeManagerAddress": os.environ["STUB_IP"], "Resources": {"GPU": mine}})
        gpus -= mine
    others = count - len(result)
    for i in range(others):
        share = gpus // others + (1 if i < gpus % others else 0)
        resources = {"GPU": share} if share else {}
        result.append({"Alive": True, "NodeManagerAddress": f"10.0.9.{i}", "Resources": resources})
    return result
