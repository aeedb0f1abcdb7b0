#!/usr/bin/env python3
# Writes what this GPU node verified, for the benchmark results to carry (cluster/nodes/<role>-<index>.json).
# Usage: node_facts.py --out FILE --stack STACK_JSON --nixl NIXL_JSON [--provenance FILE] key=value...
# with the keys role, index, instanceId, privateIp, instanceType, gpus, gpuName, efaDevices.
# The provenance file (name=value lines) says where the venv, the LMCache wheel and the weights came from: built or
# downloaded on this boot, or restored from the deploy cache (and the model commit): results carry it.
import argparse
import json
import sys

# The shape other tools read: keep the keys and their order.
ORDER = ["role", "index", "instanceId", "privateIp", "instanceType", "gpus", "gpuName", "efaDevices"]
INTEGERS = {"index", "gpus", "efaDevices"}
VERSIONS = ["ray", "vllm", "nixl", "lmcache", "torch"]
PROVENANCE = ["venv", "lmcacheWheel", "weights", "modelRevision"]


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--stack", required=True, help="verify_stack.py's facts")
    parser.add_argument("--nixl", required=True, help="nixl_probe.py's facts")
    parser.add_argument("--provenance", help="the bootstrap's name=value provenance lines")
    parser.add_argument("fields", nargs="+", help="key=value")
    args = parser.parse_args(argv)
    given = dict(f.split("=", 1) for f in args.fields)
    missing = [k for k in ORDER if k not in given]
    if missing:
        print(f"node_facts.py: missing {', '.join(missing)}")
        return 2
    with open(args.stack) as f:
        stack = json.load(f)
    with open(args.nixl) as f:
        nixl = json.load(f)
    facts = {k: int(given[k]) if k in INTEGERS else given[k] for k in ORDER}
    facts["nixl"] = {"backend": nixl["backend"], "provider": nixl["provider"]}
    # Whether that provider is EFA, and what the probe looked at, when the probe says (a rehearsal has no EFA).
    facts["nixl"].update({k: nixl[k] for k in ("efa", "scope") if k in nixl})
    facts["lmcache"] = {"compiledModules": stack["lmcache"]["compiledModules"]}
    facts["versions"] = {k: stack["versions"][k] for k in VERSIONS}
    if args.provenance:
        with open(args.provenance) as f:
            lines = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
        facts["bootstrap"] = {k: lines.get(k, "unknown") for k in PROVENANCE}
    with open(args.out, "w") as f:
        json.dump(facts, f, separators=(",", ":"))
        f.write("\n")
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
