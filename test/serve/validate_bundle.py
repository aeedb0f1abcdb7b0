"""Checks a rendered serve bundle with the real Ray (no vLLM, no GPUs) and prints one JSON report on stdout.

Usage: validate_bundle.py <bundle-dir>...; the report is keyed by bundle folder. One process checks everything because importing Ray takes seconds.
Only the vLLM-dependent app constructors (ray.serve.llm's build_openai_app / build_pd_openai_app) are stubbed, at
their import boundary; the stubs validate what they receive with Ray's own models and record it.
"""

import glob
import json
import os
import sys
import types

import ray
import yaml
from ray.llm._internal.common.placement import PlacementGroupConfig
from ray.llm._internal.serve.core.configs.llm_config import LLMConfig
from ray.serve.schema import ServeDeploySchema

LLM_ROLES = ("llm_config", "prefill_config", "decode_config")

HEAD = {"NodeManagerAddress": "10.0.0.5", "Alive": True,
        "Resources": {"CPU": 8.0, "node:10.0.0.5": 1.0, "node:__internal_head__": 1.0}}
DEAD_GPU = {"NodeManagerAddress": "10.0.1.9", "Alive": False, "Resources": {"GPU": 8.0, "node:10.0.1.9": 1.0}}


def gpu_node(ip, gpus=8):
    return {"NodeManagerAddress": ip, "Alive": True, "Resources": {"CPU": 192.0, "GPU": float(gpus), f"node:{ip}": 1.0}}


CLUSTERS = {
    "two_gpu_nodes": [HEAD, DEAD_GPU, gpu_node("10.0.1.21"), gpu_node("10.0.1.12")],
    "one_gpu_node": [HEAD, DEAD_GPU, gpu_node("10.0.1.12")],
    "small_gpu_nodes": [HEAD, gpu_node("10.0.1.12", 2), gpu_node("10.0.1.21", 2)],
    "no_gpu_nodes": [HEAD],
}

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
    result = {"schema": None, "llm_configs": {}, "import_paths": []}
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
                try:
                    LLMConfig.model_validate(app["args"][role])
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
            entry["builders"][name] = {
                cluster: run_builder(builder, app["import_path"], app["args"], cluster) for cluster in CLUSTERS
            }
    print(json.dumps(report, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
