"""Checks a rendered serve bundle with the real Ray (no vLLM, no GPUs) and prints one JSON report on stdout.

Usage: validate_bundle.py <bundle-dir>...; the report is keyed by bundle folder. One process checks everything because importing Ray takes seconds.
Only the vLLM-dependent app constructors (ray.serve.llm's build_openai_app / build_pd_openai_app) are stubbed, at
their import boundary; the stubs validate what they receive with Ray's own models and record it.
"""

import ast
import glob
import inspect
import json
import os
import sys
import types

import ray
import yaml
from ray._private.label_utils import validate_label_selector
from ray.llm._internal.common.placement import PlacementGroupConfig
from ray.llm._internal.serve.core.configs.llm_config import LLMConfig
from ray.serve.config import RequestRouterConfig
from ray.serve.schema import DeploymentSchema, ServeDeploySchema

LLM_ROLES = ("llm_config", "prefill_config", "decode_config")

def node_id(ip):
    """A 56-hex-digit node id, as ray.nodes() gives NodeID, derived from the address so tests can name it."""
    return "".join(f"{int(part):02x}" for part in ip.split(".")).ljust(56, "0")


HEAD = {"NodeManagerAddress": "10.0.0.5", "NodeID": node_id("10.0.0.5"), "Alive": True,
        "Resources": {"CPU": 8.0, "node:10.0.0.5": 1.0, "node:__internal_head__": 1.0}}
DEAD_GPU = {"NodeManagerAddress": "10.0.1.9", "NodeID": node_id("10.0.1.9"), "Alive": False,
            "Resources": {"GPU": 8.0, "node:10.0.1.9": 1.0}}


def gpu_node(ip, gpus=8):
    return {"NodeManagerAddress": ip, "NodeID": node_id(ip), "Alive": True,
            "Resources": {"CPU": 192.0, "GPU": float(gpus), f"node:{ip}": 1.0}}


CLUSTERS = {
    "two_gpu_nodes": [HEAD, DEAD_GPU, gpu_node("10.0.1.21"), gpu_node("10.0.1.12")],
    "one_gpu_node": [HEAD, DEAD_GPU, gpu_node("10.0.1.12")],
    "small_gpu_nodes": [HEAD, gpu_node("10.0.1.12", 2), gpu_node("10.0.1.21", 2)],
    "no_gpu_nodes": [HEAD],
    "four_gpu_nodes": [HEAD, gpu_node("10.0.1.40"), gpu_node("10.0.1.30"), gpu_node("10.0.1.20"), gpu_node("10.0.1.10")],
    # A one-machine rehearsal: the head is the GPU machine.
    "rehearsal_one_gpu": [gpu_node("127.0.0.1", 1)],
    "rehearsal_two_gpus": [gpu_node("127.0.0.1", 2)],
}

# The public router module imports vLLM (absent here); its class must subclass this one, which imports without it.
PUBLIC_ROUTER_MODULE = "ray.serve.llm.request_router"
INTERNAL_ROUTERS = {
    "PrefixCacheAffinityRouter":
        "ray.llm._internal.serve.routing_policies.prefix_aware.prefix_aware_router:PrefixCacheAffinityRouter",
}


def check_request_router(cfg):
    """Ray's RequestRouterConfig accepts the config, the class exists at that path, and its kwargs are parameters."""
    module, _, cls = cfg["request_router_class"].partition(":")
    if module != PUBLIC_ROUTER_MODULE or cls not in INTERNAL_ROUTERS:
        return f"unexpected request_router_class {cfg['request_router_class']}"
    # Read from Ray's install: the vLLM-free stub of ray.serve.llm (install_stubs) has no package path.
    source = os.path.join(os.path.dirname(ray.__file__), *module.split(".")[1:]) + ".py"
    with open(source, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    classes = {node.name: [ast.unparse(b) for b in node.bases] for node in tree.body if isinstance(node, ast.ClassDef)}
    imported = {
        alias.asname or alias.name: f"{node.module}:{alias.name}"
        for node in tree.body if isinstance(node, ast.ImportFrom) for alias in node.names
    }
    if cls not in classes:
        return f"{module} defines no {cls}"
    if not any(imported.get(base) == INTERNAL_ROUTERS[cls] for base in classes[cls]):
        return f"{module}:{cls} does not subclass {INTERNAL_ROUTERS[cls]}"
    internal = dict(cfg, request_router_class=INTERNAL_ROUTERS[cls])
    router = RequestRouterConfig(**internal).get_request_router_class()
    params = inspect.signature(router.initialize_state).parameters
    unknown = sorted(set(cfg.get("request_router_kwargs", {})) - set(params))
    if unknown:
        return f"{cls}.initialize_state takes no {unknown}"
    return "ok"


def without_vllm(llm):
    """The LLM config with the public router path swapped for the class it subclasses (check_request_router proves
    it), because importing the public module needs vLLM, which this test venv lacks; Ray imports the class while it
    validates the deployment config."""
    router = llm.get("deployment_config", {}).get("request_router_config")
    if router is None:
        return llm
    module, _, cls = router["request_router_class"].partition(":")
    if module != PUBLIC_ROUTER_MODULE or cls not in INTERNAL_ROUTERS:
        return llm
    swapped = json.loads(json.dumps(llm))
    swapped["deployment_config"]["request_router_config"]["request_router_class"] = INTERNAL_ROUTERS[cls]
    return swapped


def check_label_selector(pgc, deployment_config):
    """The deployment options Serve would get: bundles, STRICT_PACK and the selector, through Serve's own schema."""
    selectors = deployment_config.get("placement_group_bundle_label_selector")
    if selectors is None:
        return None
    for selector in selectors:
        problem = validate_label_selector(selector)
        if problem:
            return problem
    DeploymentSchema(
        name="check",
        placement_group_bundles=pgc["bundles"],
        placement_group_strategy=pgc["strategy"],
        placement_group_bundle_label_selector=selectors,
    )
    return "ok"

calls = []


def _llm_summary(cfg):
    assert isinstance(cfg, LLMConfig), f"expected an LLMConfig, got {type(cfg).__name__}"
    pgc = cfg.placement_group_config
    if pgc is not None:
        PlacementGroupConfig(**pgc)
    return {
        "model_id": cfg.model_id,
        "engine_kwargs": cfg.engine_kwargs,
        "deployment_config": cfg.deployment_config,
        "placement_group_config": pgc,
        "runtime_env": cfg.runtime_env,
        "label_selector": check_label_selector(pgc, cfg.deployment_config) if pgc is not None else None,
    }


def fake_build_openai_app(args):
    assert set(args) <= {"llm_configs", "ingress_deployment_config", "ingress_cls_config"}, sorted(args)
    calls.append({"fn": "build_openai_app", "llm_configs": [_llm_summary(c) for c in args["llm_configs"]],
                  "ingress_deployment_config": args.get("ingress_deployment_config")})
    return "openai-app"


def fake_build_pd_openai_app(args):
    assert set(args) <= {"prefill_config", "decode_config", "ingress_deployment_config", "ingress_cls_config"}, sorted(args)
    prefill, decode = args["prefill_config"], args["decode_config"]
    # The checks PDServingArgs makes in Ray 2.58 (its module needs vLLM to import).
    assert prefill.model_id == decode.model_id, "P/D model id mismatch"
    for cfg in (prefill, decode):
        assert cfg.engine_kwargs.get("kv_transfer_config") is not None, "kv_transfer_config is required for P/D"
    calls.append({"fn": "build_pd_openai_app", "prefill": _llm_summary(prefill), "decode": _llm_summary(decode),
                  "ingress_deployment_config": args.get("ingress_deployment_config")})
    return "pd-app"


def install_stubs():
    fake = types.ModuleType("ray.serve.llm")
    fake.LLMConfig = LLMConfig
    fake.build_openai_app = fake_build_openai_app
    fake.build_pd_openai_app = fake_build_pd_openai_app
    sys.modules["ray.serve.llm"] = fake


def error_text(exc):
    return f"{type(exc).__name__}: {exc}"


def check_file(path):
    result = {"schema": None, "llm_configs": {}, "import_paths": [], "request_routers": {}}
    with open(path) as f:
        doc = yaml.safe_load(f)
    try:
        ServeDeploySchema.model_validate(doc)
        result["schema"] = "ok"
    except Exception as exc:  # noqa: BLE001 - the message is the result
        result["schema"] = error_text(exc)
    for app in doc.get("applications", []):
        result["import_paths"].append(app.get("import_path"))
        for role in LLM_ROLES:
            if role in app.get("args", {}):
                router = app["args"][role].get("deployment_config", {}).get("request_router_config")
                result["request_routers"][role] = None if router is None else check_request_router(router)
                try:
                    LLMConfig.model_validate(without_vllm(app["args"][role]))
                    result["llm_configs"][role] = "ok"
                except Exception as exc:  # noqa: BLE001
                    result["llm_configs"][role] = error_text(exc)
    return doc, result


def run_builder(builder, import_path, args, cluster):
    ray.nodes = lambda: CLUSTERS[cluster]
    del calls[:]
    fn = getattr(builder, import_path.split(":", 1)[1])
    try:
        returned = fn(args)
        return {"ok": True, "returned": returned, "calls": list(calls)}
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": error_text(exc), "error_type": type(exc).__name__, "calls": list(calls)}


def main(bundles):
    report = {"ray_version": ray.__version__, "bundles": {}}
    # Proves the validator is live: a key LLMConfig does not know must be rejected.
    try:
        LLMConfig.model_validate({"model_loading_config": {"model_id": "x"}, "not_a_field": 1})
        report["rejects_unknown_llm_config_key"] = False
    except Exception:  # noqa: BLE001
        report["rejects_unknown_llm_config_key"] = True

    install_stubs()
    for bundle in bundles:
        # Each bundle brings its own builder.py: forget the previous one.
        sys.modules.pop("builder", None)
        sys.path.insert(0, bundle)
        import builder
        sys.path.remove(bundle)
        entry = report["bundles"][bundle] = {"files": {}, "builders": {}}
        for path in sorted(glob.glob(os.path.join(bundle, "*.yaml"))):
            name = os.path.basename(path)[: -len(".yaml")]
            doc, result = check_file(path)
            entry["files"][name] = result
            app = doc["applications"][0]
            args = {key: (without_vllm(value) if key in LLM_ROLES else value) for key, value in app["args"].items()}
            entry["builders"][name] = {
                cluster: run_builder(builder, app["import_path"], args, cluster) for cluster in CLUSTERS
            }
    report["node_ids"] = {n["NodeManagerAddress"]: n["NodeID"] for c in CLUSTERS.values() for n in c}
    print(json.dumps(report, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
