#!/usr/bin/env python3
# Which fabric NIXL really uses. A backend that loads is no proof: NIXL's LIBFABRIC backend takes the efa provider
# when libfabric offers it, else quietly tcp or sockets (nixl v1.3.1 src/utils/libfabric/libfabric_common.cpp,
# getAvailableNetworkDevices), and UCX picks its transports at run time. The bootstrap runs this under exactly the
# environment Ray's workers get (env -i + ray.env), since FI_PROVIDER and LD_LIBRARY_PATH decide the outcome.
# Usage: nixl_probe.py --backend LIBFABRIC|UCX --facts FILE [--no-require-efa]
# Prints NIXL's and UCX's own lines and the verdict, marked "p5-ray-verdict: " (exit 0 only for EFA, unless
# --no-require-efa: a one-machine rehearsal, which records the fabric it found and has no EFA to require).
import argparse
import json
import os
import re
import sys
import tempfile

# nixl v1.3.1 src/utils/libfabric/libfabric_rail_manager.cpp logs this at INFO once the rails exist.
LIBFABRIC_RAILS = re.compile(r"Created (\d+) rails using provider=(\S+)")
# UCX 1.22 src/ucp/core/ucp_worker.c (ucp_worker_print_used_tls) logs each endpoint configuration at info:
# "<context> inter-node cfg#1 rma(srd/rdmap16s27:1 ...) am(...)", one "transport/device:port" per lane.
UCX_RMA_LANES = re.compile(r"cfg#\d+ .*?\b(rma|rma_am)\(([^)]*)\)")
# UCX's EFA transport (UCX src/uct/ib/efa/srd). Everything else on a p5 (tcp) is not EFA.
UCX_EFA_TRANSPORTS = {"srd"}
# Two agents in one process would otherwise talk over shared memory: leave UCX only its network transports, so it
# chooses among them as it does between two nodes.
UCX_PROBE_TLS = "^sm,self,cuda_ipc"
# NIXL may still log while the agents are torn down at exit: the bootstrap looks for this mark, not the last line.
VERDICT = "p5-ray-verdict: "


class ProbeFailure(Exception):
    pass


def verdict(text):
    print(VERDICT + text, flush=True)


class CapturedStderr:
    # NIXL logs through Abseil straight to file descriptor 2, not through Python.
    def __enter__(self):
        sys.stderr.flush()
        self._file = tempfile.TemporaryFile()
        self._saved = os.dup(2)
        os.dup2(self._file.fileno(), 2)
        return self

    def __exit__(self, *exc):
        sys.stderr.flush()
        os.dup2(self._saved, 2)
        os.close(self._saved)
        return False

    def text(self):
        self._file.seek(0)
        return self._file.read().decode(errors="replace")


def show(log):
    for line in log.splitlines():
        if line.strip():
            print(f"  | {line}")


def probe_libfabric(nixl_api):
    with CapturedStderr() as captured:
        try:
            agent = nixl_api.nixl_agent("p5-ray-boot-probe", nixl_api.nixl_agent_config(backends=["LIBFABRIC"]))
        except Exception as e:
            agent = e
    log = captured.text()
    show(log)
    if isinstance(agent, Exception):
        # With FI_PROVIDER=efa and no EFA device, libfabric offers no provider at all and the backend fails.
        raise ProbeFailure(f"NIXL backend LIBFABRIC did not start: {type(agent).__name__}: {agent}")
    if "LIBFABRIC" not in agent.backends:
        raise ProbeFailure(f"NIXL backend LIBFABRIC not created (plugins found: {', '.join(agent.get_plugin_list())})")
    rails = LIBFABRIC_RAILS.findall(log)
    if not rails:
        raise ProbeFailure("NIXL LIBFABRIC did not log which provider it chose "
                         "(no 'Created N rails using provider=' line at NIXL_LOG_LEVEL=INFO)")
    count, provider = rails[-1]
    return provider, f"{count} rails"


def probe_ucx(nixl_api, log_file, require_efa=True):
    config = nixl_api.nixl_agent_config(backends=["UCX"])
    try:
        a = nixl_api.nixl_agent("p5-ray-boot-probe-a", config)
        b = nixl_api.nixl_agent("p5-ray-boot-probe-b", config)
    except Exception as e:
        raise ProbeFailure(f"NIXL backend UCX did not start: {type(e).__name__}: {e}")
    if "UCX" not in a.backends:
        raise ProbeFailure(f"NIXL backend UCX not created (plugins found: {', '.join(a.get_plugin_list())})")
    # Loading the peer's metadata connects to it: UCX selects the endpoint's lanes and logs them.
    b.add_remote_agent(a.get_agent_metadata())
    with open(log_file, errors="replace") as f:
        log = f.read()
    show(log)
    kinds, transports = set(), set()
    for kind, lanes in UCX_RMA_LANES.findall(log):
        kinds.add(kind)
        transports.update(lane.split("/", 1)[0] for lane in lanes.split())
    if not transports:
        why = ("UCX did not log the transports of the probe's endpoint (no 'cfg#N ... rma(...)' line at "
               "UCX_LOG_LEVEL=info)")
        if require_efa:
            raise ProbeFailure(why)
        return "ucx:unknown", why
    provider = "ucx:" + "+".join(sorted(transports))
    # RMA emulated over active messages still moves the bytes, slowly: keep it visible in the facts.
    if kinds == {"rma_am"}:
        provider += "(rma_am)"
    return provider, f"transports {', '.join(sorted(transports))}"


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", required=True, choices=["LIBFABRIC", "UCX"])
    parser.add_argument("--facts", required=True, help="where to write {backend, provider, efa} as JSON")
    parser.add_argument("--no-require-efa", action="store_true",
                        help="record a fabric that is not EFA instead of failing (a one-machine rehearsal)")
    args = parser.parse_args(argv)
    # Both are read when the libraries load or the backend starts, so they are set before the import.
    os.environ["NIXL_LOG_LEVEL"] = "INFO"
    ucx_log = os.path.join(tempfile.mkdtemp(prefix="p5-ucx-"), "ucx.log")
    if args.backend == "UCX":
        os.environ.update(UCX_LOG_LEVEL="info", UCX_LOG_FILE=ucx_log, UCX_TLS=UCX_PROBE_TLS)
    import nixl._api as nixl_api

    try:
        if args.backend == "LIBFABRIC":
            provider, detail = probe_libfabric(nixl_api)
            efa = provider == "efa"
        else:
            provider, detail = probe_ucx(nixl_api, ucx_log, not args.no_require_efa)
            efa = provider.split(":", 1)[1].split("(")[0] in UCX_EFA_TRANSPORTS
    except ProbeFailure as e:
        verdict(str(e))
        return 1
    facts = {"backend": args.backend, "provider": provider, "efa": efa}
    if args.backend == "UCX":
        facts["scope"] = f"UCX_TLS={UCX_PROBE_TLS}: the transports UCX would use between two hosts"
    with open(args.facts, "w") as f:
        json.dump(facts, f)
    env = f"FI_PROVIDER={os.environ.get('FI_PROVIDER', '')} LD_LIBRARY_PATH={os.environ.get('LD_LIBRARY_PATH', '')}"
    if not efa and args.no_require_efa:
        verdict(f"NIXL {args.backend} chose {provider} ({detail}): not EFA, recorded (no EFA is required here; {env})")
        return 0
    if not efa:
        verdict(f"NIXL {args.backend} chose {provider} ({detail}), not EFA: KV transfers between the nodes would "
              f"bypass EFA ({env})")
        return 1
    verdict(f"NIXL {args.backend} uses {provider} ({detail}; {env})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
