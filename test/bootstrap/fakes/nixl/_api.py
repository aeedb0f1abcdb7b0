# Like nixl v1.3.1 over libfabric and UCX, as far as the bootstrap's probe can tell.
import os

_LEVELS = ("TRACE", "DEBUG", "INFO")


def _log(line):
    # Abseil logging, straight to file descriptor 2, from NIXL_LOG_LEVEL=INFO on.
    if os.environ.get("NIXL_LOG_LEVEL", "WARN").upper() in _LEVELS:
        os.write(2, f"I1129 12:00:00.000000   4242 {line}\n".encode())


_log("nixl_log.cpp:80] NIXL version: 1.3.1")


def _libfabric_provider():
    offered = [p for p in os.environ.get("STUB_FABRIC", "efa,tcp").split(",") if p]
    # The efa provider comes with the EFA installer's libfabric; the distribution's has tcp and sockets only.
    if "/opt/amazon/efa/lib" not in os.environ.get("LD_LIBRARY_PATH", "").split(":"):
        offered = [p for p in offered if p != "efa"]
    wanted = os.environ.get("FI_PROVIDER")
    if wanted:
        offered = [p for p in offered if p == wanted]
    for provider in ("cxi", "efa", "tcp", "sockets"):
        if provider in offered:
            return provider
    return "none"


def _ucx_transport():
    tls = os.environ.get("UCX_TLS", "all")
    # Two agents of one process use shared memory unless it is excluded.
    if not (tls.startswith("^") and {"sm", "self"} <= set(tls[1:].split(","))):
        return "sysv"
    return os.environ.get("STUB_UCX_TL", "srd")


class nixl_agent_config:
    def __init__(self, enable_prog_thread=True, enable_listen_thread=False, listen_port=0, backends=("UCX",)):
        self.backends = list(backends)


class nixl_agent:
    def __init__(self, agent_name, nixl_conf=None):
        self.name = agent_name
        self.plugin_list = [p for p in os.environ.get("STUB_NIXL_PLUGINS", "UCX,LIBFABRIC").split(",") if p]
        self.backends = {}
        for backend in (nixl_conf or nixl_agent_config()).backends:
            if backend not in self.plugin_list:
                continue
            if backend == "LIBFABRIC":
                provider = _libfabric_provider()
                if provider == "none":
                    raise RuntimeError("Failed to initialize the rail manager")
                rails = int(os.environ.get("STUB_EFA", "32")) if provider == "efa" else 1
                _log(f"libfabric_rail_manager.cpp:232] Created {rails} rails using provider={provider}")
            self.backends[backend] = object()

    def get_plugin_list(self):
        return self.plugin_list

    def get_agent_metadata(self):
        return self.name.encode()

    def add_remote_agent(self, metadata):
        if "UCX" in self.backends and os.environ.get("UCX_LOG_LEVEL") == "info" and os.environ.get("UCX_LOG_FILE"):
            tl = _ucx_transport()
            lane = "memory" if tl == "sysv" else "rdmap16s27:1"
            with open(os.environ["UCX_LOG_FILE"], "a") as f:
                f.write(f"[1764417600.000000] [node:4242:0]     ucp_worker.c:1991 UCX  INFO  inter-node cfg#1 "
                        f"rma({tl}/{lane}) am({tl}/{lane}) ka({tl}/{lane})\n")
        return metadata.decode()
