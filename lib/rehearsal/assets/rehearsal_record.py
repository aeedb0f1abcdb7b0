#!/usr/bin/env python3
"""What a GPU rehearsal ran on and what it saw (written by `npm run rehearse`); standard library only.

  rehearsal_record.py machine --out FILE [--gpus N]   the GPUs (nvidia-smi), CPUs, memory and Python of this machine
  rehearsal_record.py meta --state DIR --out FILE      the `rehearsal` section every result's .meta.json carries
  rehearsal_record.py summary --state DIR --log FILE --run-dir DIR
                                                       rehearsal.json beside the results: every step with its time
                                                       and outcome, the LMCache build, each deploy's time to healthy,
                                                       what failed; and a summary on stdout
"""

import argparse
import json
import os
import platform
import re
import subprocess
import sys

KIND = "functional rehearsal"
NOTES = [
    "A functional rehearsal of the whole pipeline on one machine: it shows that the pinned stack installs and LMCache "
    "builds with the node's own code, that every serve configuration deploys through Ray Serve LLM and builder.py, and "
    "that the benchmark harness, its evidence and the report work against live engines. Its numbers are not "
    "performance figures: they come from a small model on one machine.",
    "No EFA: KV moves between engines of one host (NIXL picks a local transport), never over EFA as between p5 nodes.",
]
# run_all.sh's progress lines (lib/serve/assets/run_all.sh): a deploy starts, an application is healthy.
DEPLOYING = re.compile(r"^run_all: \[\d+/\d+\] (\S+?)(?: \(.*\))?: deploying (\S+)")
HEALTHY = re.compile(r"^run_all: (\S+): healthy after (\d+)s")


def load(path, default=None):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def write(path, doc):
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def machine(args):
    query = "name,memory.total,driver_version,compute_cap"
    out = subprocess.run(["nvidia-smi", f"--query-gpu={query}", "--format=csv,noheader,nounits"],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        print(f"nvidia-smi failed (exit {out.returncode}): {out.stderr.strip()[:300]}", file=sys.stderr)
        return 1
    gpus = []
    for line in out.stdout.strip().splitlines():
        name, memory, driver, cap = (x.strip() for x in line.split(","))
        gpus.append({"name": name, "memoryMiB": int(float(memory)), "driver": driver, "computeCapability": cap})
    with open("/proc/meminfo", encoding="utf-8") as f:
        mem_kib = int(next(line.split()[1] for line in f if line.startswith("MemTotal:")))
    doc = {
        "gpus": gpus, "gpuCount": len(gpus), "cpus": os.cpu_count(), "memoryGiB": round(mem_kib / 2**20, 1),
        "kernel": platform.release(), "os": _os_release(), "python": platform.python_version(),
    }
    write(args.out, doc)
    print(f"{len(gpus)} x {gpus[0]['name'] if gpus else '?'} (compute {gpus[0]['computeCapability'] if gpus else '?'}, "
          f"driver {gpus[0]['driver'] if gpus else '?'}), {doc['cpus']} CPUs, {doc['memoryGiB']} GiB, {doc['os']}")
    return 0


def _os_release():
    try:
        with open("/etc/os-release", encoding="utf-8") as f:
            fields = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
        return fields.get("PRETTY_NAME", "").strip('"')
    except OSError:
        return platform.platform()


def meta(args):
    state = args.state
    m = load(os.path.join(state, "machine.json"), {})
    doc = {
        "kind": KIND,
        "notes": NOTES,
        "machine": m,
        "pdSharesGpus": args.pd_shares_gpus,
        "nixl": load(os.path.join(state, "nixl.json")),
        "provenance": load(args.provenance),
    }
    if args.pd_shares_gpus:
        doc["notes"] = [*NOTES, "Prefill and decode share the GPU(s): each engine has a share of each GPU and of its "
                        "memory, and they compete for it."]
    write(args.out, doc)
    return 0


def deploys_from_log(log):
    """[{configuration, file, healthyAfterSeconds}] in order, from run_all.sh's lines."""
    out, pending = [], {}
    try:
        with open(log, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return out
    for line in lines:
        text = line.split(" ", 1)[1] if line[:4].isdigit() and " " in line else line
        d = DEPLOYING.match(text)
        if d:
            pending[d.group(1)] = {"configuration": d.group(1), "file": os.path.basename(d.group(2)),
                                   "healthyAfterSeconds": None}
            out.append(pending[d.group(1)])
            continue
        h = HEALTHY.match(text)
        if h and h.group(1) in pending:
            pending.pop(h.group(1))["healthyAfterSeconds"] = int(h.group(2))
    return out


def steps(path):
    rows = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                name, status, seconds, detail = [*line.rstrip("\n").split("\t"), "", "", "", ""][:4]
                rows.append({"step": name, "status": status, "seconds": int(seconds) if seconds.isdigit() else None,
                             "detail": detail})
    except OSError:
        pass
    return rows


def summary(args):
    state, run_dir = args.state, args.run_dir
    deploys = deploys_from_log(args.log)
    results = sorted(os.path.relpath(os.path.join(d, f), run_dir)
                     for d, _, files in os.walk(run_dir) for f in files if re.fullmatch(r"conc\d+\.json", f))
    doc = {
        "kind": KIND,
        "notes": NOTES,
        "machine": load(os.path.join(state, "machine.json")),
        "steps": steps(os.path.join(state, "steps.tsv")),
        "stack": load(os.path.join(state, "stack.json")),
        "lmcacheBuild": load(os.path.join(state, "lmcache-build.json")),
        "nixl": load(os.path.join(state, "nixl.json")),
        "deploys": deploys,
        "failures": (load(os.path.join(run_dir, "failures.json"), {}) or {}).get("failed", []),
        "results": results,
        "provenance": load(args.provenance),
    }
    write(os.path.join(run_dir, "rehearsal.json"), doc)
    print(f"rehearsal summary ({os.path.join(run_dir, 'rehearsal.json')}):")
    for s in doc["steps"]:
        took = f"{s['seconds']} s" if s["seconds"] is not None else ""
        print(f"  {s['step']:<12} {s['status']:<8} {took:>7}  {s['detail']}")
    for d in deploys:
        after = d["healthyAfterSeconds"]
        outcome = f"healthy after {after} s" if after is not None else "never healthy"
        print(f"  deploy {d['file']:<40} {outcome}")
    print(f"  {len(results)} result file(s); failed configurations: {', '.join(doc['failures']) or 'none'}")
    return 0


def main(argv):
    p = argparse.ArgumentParser(prog="rehearsal_record.py", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    m = sub.add_parser("machine")
    m.add_argument("--out", required=True)
    m.set_defaults(run=machine)
    t = sub.add_parser("meta")
    t.add_argument("--state", required=True)
    t.add_argument("--out", required=True)
    t.add_argument("--provenance", required=True)
    t.add_argument("--pd-shares-gpus", action="store_true")
    t.set_defaults(run=meta)
    s = sub.add_parser("summary")
    s.add_argument("--state", required=True)
    s.add_argument("--log", required=True)
    s.add_argument("--run-dir", required=True)
    s.add_argument("--provenance", required=True)
    s.set_defaults(run=summary)
    args = p.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
