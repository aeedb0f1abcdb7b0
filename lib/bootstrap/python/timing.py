#!/usr/bin/env python3
# Where a node's minutes went, and the cluster's: the one-line summaries at the end of the bootstrap (see
# docs/deploy-time.md for the model they measure).
#   timing.py node --tsv FILE --node gpu-1 --launched ISO --started EPOCH [--provenance FILE] --out JSON
#     reads the step and job marks the bootstrap wrote ("kind<TAB>name<TAB>start|end|failed<TAB>epoch ms") and
#     prints one line: ready time after the launch, the boot, every step's and job's duration, what came from
#     the deploy cache, and the critical path; writes the same as JSON for the Ray head.
#   timing.py cluster JSON...
#     prints one line over every node's JSON: when the last one was ready after the first launch, and why.
import argparse
import json
import sys
import time
from datetime import datetime


def epoch(iso):
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def intervals(tsv):
    spans = {}
    with open(tsv) as f:
        for line in f:
            kind, name, event, ms = line.rstrip("\n").split("\t")
            span = spans.setdefault((kind, name), {})
            span[event if event == "start" else "end"] = int(ms) / 1000
            if event == "failed":
                span["failed"] = True
    return spans


def provenance(path):
    if not path:
        return {}
    try:
        with open(path) as f:
            return dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
    except FileNotFoundError:
        return {}


# Which provenance entry tells where a job's result came from.
SOURCES = {"model-download": "weights", "stack-install": "venv", "lmcache-build": "lmcacheWheel"}


def node(args):
    now = time.time()
    spans = intervals(args.tsv)
    prov = provenance(args.provenance)
    launched, started = epoch(args.launched), float(args.started)
    steps, jobs = {}, {}
    for (kind, name), span in spans.items():
        end = span.get("end", now)
        if kind == "step":
            steps[name] = round(end - span["start"])
        else:
            jobs[name] = {"startS": round(span["start"] - started), "durationS": round(end - span["start"]),
                          "source": prov.get(SOURCES.get(name, ""), ""), "ok": "end" in span and "failed" not in span}
    longest_step = max(steps, key=steps.get) if steps else "none"
    critical = longest_step
    if jobs and longest_step == "join":
        last = max(jobs, key=lambda j: jobs[j]["startS"] + jobs[j]["durationS"])
        critical = f"join <- {last}"
    doc = {
        "node": args.node, "launchedAt": args.launched,
        "readyAt": datetime.fromtimestamp(now).astimezone().isoformat(timespec="seconds"),
        "readyAfterLaunchS": round(now - launched), "bootS": round(started - launched),
        "bootstrapS": round(now - started), "steps": steps, "jobs": jobs, "critical": critical,
        "sources": {k: prov[k] for k in ("venv", "lmcacheWheel", "weights") if k in prov},
    }
    with open(args.out, "w") as f:
        json.dump(doc, f)
    job_text = ", ".join(f"{n} {j['startS']}s+{j['durationS']}s{' (' + j['source'] + ')' if j['source'] else ''}"
                         f"{'' if j['ok'] else ' unfinished'}" for n, j in jobs.items())
    print(f"{doc['readyAfterLaunchS']}s after launch (boot {doc['bootS']}s, bootstrap {doc['bootstrapS']}s); "
          f"steps {', '.join(f'{n} {s}s' for n, s in steps.items())}"
          f"{'; jobs ' + job_text if jobs else ''}; critical path: {critical}")
    return 0


def cluster(args):
    docs = []
    for path in args.files:
        try:
            with open(path) as f:
                docs.append(json.load(f))
        except (OSError, ValueError):
            # The bootstrap names the local copies timing-<role>-<index>.json.
            docs.append({"node": path.rsplit("/", 1)[-1].split(".")[0].removeprefix("timing-"), "missing": True})
    known = [d for d in docs if not d.get("missing")]
    if not known:
        print("no node timing found")
        return 0
    first = min(epoch(d["launchedAt"]) for d in known)
    last = max(known, key=lambda d: epoch(d["readyAt"]))
    parts = [f"{d['node']} ?" if d.get("missing") else
             f"{d['node']} ready {round(epoch(d['readyAt']) - first)}s ({d['critical']})" for d in docs]
    launched = min(known, key=lambda d: epoch(d["launchedAt"]))["launchedAt"]
    print(f"ready {round(epoch(last['readyAt']) - first)}s after the first launch ({launched}); "
          f"{', '.join(parts)}; slowest {last['node']}")
    return 0


def main(argv):
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    n = sub.add_parser("node")
    n.add_argument("--tsv", required=True)
    n.add_argument("--node", required=True)
    n.add_argument("--launched", required=True)
    n.add_argument("--started", required=True)
    n.add_argument("--provenance")
    n.add_argument("--out", required=True)
    c = sub.add_parser("cluster")
    c.add_argument("files", nargs="+")
    args = parser.parse_args(argv)
    return node(args) if args.command == "node" else cluster(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
