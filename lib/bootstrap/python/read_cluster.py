#!/usr/bin/env python3
# What the Ray cluster looks like from this node. Usage: read_cluster.py GCS_ADDRESS MY_IP
# Prints "nodes=N gpus=G mine=M" (alive nodes, their GPUs, and this node's GPUs as Ray sees them, -1 if absent).
import sys

import ray


def main(argv):
    address, my_ip = argv
    ray.init(address=address, logging_level="ERROR", log_to_driver=False)
    alive = [n for n in ray.nodes() if n["Alive"]]
    mine = [n for n in alive if n["NodeManagerAddress"] == my_ip]
    gpus = int(sum(n["Resources"].get("GPU", 0) for n in alive))
    my_gpus = int(mine[0]["Resources"].get("GPU", 0)) if mine else -1
    print(f"nodes={len(alive)} gpus={gpus} mine={my_gpus}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
