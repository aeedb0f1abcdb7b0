#!/usr/bin/env python3
# Prometheus' scrape targets on the Ray head, and the check that every one of them is scraped.
#
#   monitoring.py targets --out DIR --head-name NAME --head-ip IP --ports ray=P,node=P,dcgm=P,prometheus=P
#                         [--ray-sd FILE] FACTS...
#     Writes DIR/<job>.json (Prometheus file_sd format) for the jobs prometheus, ray, node and dcgm from the GPU
#     nodes' facts files (cluster/nodes/gpu-N.json: role, index, privateIp). Every target carries the label `node`
#     (head, gpu-0, gpu-1, ...). The Ray job covers every node's metrics agent and whatever else Ray's own
#     service-discovery file lists on a cluster node (ray 2.58.0 ray/_private/metrics_agent.py
#     get_file_discovery_content: also the autoscaler's and the dashboard's metrics addresses, on the head);
#     node_exporter and dcgm-exporter run on GPU nodes only.
#   monitoring.py check --targets-dir DIR --api FILE --ray-sd FILE --ray-port P
#     FILE is Prometheus' /api/v1/targets answer. Exits 0 when every expected target is up, every address in Ray's
#     service-discovery file is scraped and every node's metrics agent is in it; else exits 1 naming what is missing
#     or down. The last line is the verdict.
import argparse
import json
import os
import sys

NODE_LABEL = "node"
JOBS = ("prometheus", "ray", "node", "dcgm")


def node_name(facts):
    return f"{facts['role']}-{facts['index']}" if facts["role"] == "gpu" else "head"


def ray_listed(path):
    with open(path) as f:
        return [a for group in json.load(f) for a in group.get("targets", [])]


def write_targets(args):
    ports = dict(kv.split("=", 1) for kv in args.ports.split(","))
    nodes = []
    for path in args.facts:
        with open(path) as f:
            facts = json.load(f)
        nodes.append((node_name(facts), facts["privateIp"]))
    names = [n for n, _ in nodes]
    if args.head_name not in names:
        # A CPU head has no node facts; a GPU head (gpu-0) is among the GPU nodes.
        nodes.insert(0, (args.head_name, args.head_ip))
    gpu_nodes = [(n, ip) for n, ip in nodes if n.startswith("gpu-")]
    ray = [(n, f"{ip}:{ports['ray']}") for n, ip in nodes]
    if args.ray_sd and os.path.exists(args.ray_sd):
        by_ip = {ip: n for n, ip in nodes}
        for addr in ray_listed(args.ray_sd):
            name = by_ip.get(addr.rsplit(":", 1)[0])
            # An address on no node of the cluster stays unscraped, and the check names it.
            if name and addr not in {a for _, a in ray}:
                ray.append((name, addr))
    jobs = {
        "prometheus": [(args.head_name, f"127.0.0.1:{ports['prometheus']}")],
        "ray": ray,
        "node": [(n, f"{ip}:{ports['node']}") for n, ip in gpu_nodes],
        "dcgm": [(n, f"{ip}:{ports['dcgm']}") for n, ip in gpu_nodes],
    }
    os.makedirs(args.out, exist_ok=True)
    for job, targets in jobs.items():
        groups = [{"targets": [addr], "labels": {NODE_LABEL: name}} for name, addr in targets]
        tmp = os.path.join(args.out, f".{job}.json.tmp")
        with open(tmp, "w") as f:
            json.dump(groups, f, indent=1)
        # Prometheus re-reads file_sd files on change: a rename, never a half-written file.
        os.replace(tmp, os.path.join(args.out, f"{job}.json"))
    print(" ".join(f"{job}={len(t)}" for job, t in jobs.items()))
    return 0


def expected_targets(targets_dir):
    expected = {}
    for job in JOBS:
        with open(os.path.join(targets_dir, f"{job}.json")) as f:
            for group in json.load(f):
                for addr in group["targets"]:
                    expected[(job, addr)] = group["labels"][NODE_LABEL]
    return expected


def check(args):
    expected = expected_targets(args.targets_dir)
    try:
        with open(args.api) as f:
            active = json.load(f)["data"]["activeTargets"]
    except (OSError, ValueError, KeyError) as e:
        print(f"no target list from Prometheus yet ({type(e).__name__}: {e})")
        return 1
    seen = {}
    for t in active:
        labels = t.get("labels", {})
        seen[(labels.get("job"), labels.get("instance"))] = t
    problems = []
    for (job, addr), node in sorted(expected.items()):
        t = seen.get((job, addr))
        if t is None:
            problems.append(f"{job}/{node} ({addr}) not scraped")
        elif t.get("health") != "up":
            err = (t.get("lastError") or t.get("health") or "?")[:120]
            problems.append(f"{job}/{node} ({addr}) {t.get('health')}: {err}")
        elif t.get("labels", {}).get(NODE_LABEL) != node:
            problems.append(f"{job}/{node} ({addr}) lacks the label {NODE_LABEL}={node}")
    ray_scraped = {addr for job, addr in expected if job == "ray"}
    agents = {addr for addr in ray_scraped if addr.endswith(f":{args.ray_port}")}
    try:
        listed = set(ray_listed(args.ray_sd))
    except (OSError, ValueError) as e:
        problems.append(f"Ray's service-discovery file {args.ray_sd} unreadable ({type(e).__name__})")
        listed = ray_scraped
    if listed - ray_scraped:
        problems.append(f"Ray's service-discovery file lists {sorted(listed - ray_scraped)}, on no node of the cluster")
    if agents - listed:
        problems.append(f"Ray's service-discovery file lacks the metrics agents {sorted(agents - listed)}")
    if problems:
        print(f"{len(problems)} of {len(expected)} targets not ready: " + "; ".join(problems))
        return 1
    counts = {job: sum(1 for j, _ in expected if j == job) for job in JOBS}
    print("all targets up: " + ", ".join(f"{job} {n}" for job, n in counts.items()))
    return 0


def main(argv):
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("targets")
    t.add_argument("--out", required=True)
    t.add_argument("--head-name", required=True)
    t.add_argument("--head-ip", required=True)
    t.add_argument("--ports", required=True)
    t.add_argument("--ray-sd")
    t.add_argument("facts", nargs="*")
    c = sub.add_parser("check")
    c.add_argument("--targets-dir", required=True)
    c.add_argument("--api", required=True)
    c.add_argument("--ray-sd", required=True)
    c.add_argument("--ray-port", required=True)
    args = p.parse_args(argv)
    return write_targets(args) if args.cmd == "targets" else check(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
