#!/usr/bin/env python3
# Checks the node's Python stack, run by the bootstrap under exactly the environment Ray's workers get:
# the pinned versions, the imports vLLM's engines need and, on GPU nodes, that LMCache runs its compiled CUDA
# kernels and not its Python fallback.
# Usage: verify_stack.py --facts FILE [--gpu] name=version...
# Prints diagnostics and the verdict, marked "p5-ray-verdict: ": the summary, or every problem joined by "; "
# (exit 1).
import argparse
import importlib
import importlib.machinery
import importlib.metadata as md
import json
import sys

# LMCache 0.5.x compiles its CUDA kernels into this extension (LMCache 0.5.6 setup_extensions/build_profiles/cuda.py).
LMCACHE_KERNELS = "lmcache.cuda_ops"
# What LMCache's code calls its ops through: `import lmcache` resolves the platform's DeviceOps singleton as
# lmcache.device_ops, whose ensure_native() binds the compiled ops over the torch baseline with setattr and only logs
# a warning when the extension does not import (LMCache 0.5.6 lmcache/v1/platform/__init__.py resolve_device_ops,
# lmcache/v1/platform/devices/cuda/device_ops.py; the GPU connector does `from lmcache import device_ops`). A
# kernel module that imports on its own therefore proves nothing: the op LMCache dispatches to must be it.
LMCACHE_DISPATCH = "device_ops"
# A kernel on every KV save and load of LMCacheConnectorV1 (lmcache/v1/gpu_connector/gpu_connectors.py).
LMCACHE_PROBE_OP = "multi_layer_kv_transfer"
# What vLLM's LMCacheConnectorV1 imports.
LMCACHE_VLLM_ADAPTER = "lmcache.integration.vllm.vllm_v1_adapter"
# A bare ".so" is also a valid suffix, but shared libraries vendored into a wheel carry it too.
# What the bootstrap looks for in the output (libraries may still log at exit, after the verdict).
VERDICT = "p5-ray-verdict: "
_EXTENSION_SUFFIXES = sorted((s for s in importlib.machinery.EXTENSION_SUFFIXES if s != ".so"), key=len, reverse=True)


def installed_version(dist):
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return "missing"


def compiled_modules(dist):
    # The distribution's own file list (RECORD) says which extensions the build produced: a kernel module that
    # was never built is as absent here as from the import system.
    names = set()
    for path in md.files(dist) or []:
        for suffix in _EXTENSION_SUFFIXES:
            if path.name.endswith(suffix):
                stem = path.name[: -len(suffix)]
                if stem.isidentifier():
                    names.add(".".join([*path.parts[:-1], stem]))
                break
    return sorted(names)


def describe(obj):
    module = getattr(obj, "__module__", None) or type(obj).__module__
    return f"{module}.{getattr(obj, '__qualname__', type(obj).__name__)}"


def check_lmcache(problems):
    compiled = compiled_modules("lmcache")
    print(f"lmcache compiled modules: {', '.join(compiled) or 'none'}")
    if LMCACHE_KERNELS not in compiled:
        problems.append(f"lmcache was built without {LMCACHE_KERNELS} (compiled: {', '.join(compiled) or 'none'}): "
                        "its CUDA kernels would run as the Python fallback")
        return compiled
    for name in compiled:
        try:
            module = importlib.import_module(name)
        except Exception as e:  # an undefined symbol (torch ABI mismatch) arrives as ImportError
            problems.append(f"import {name}: {type(e).__name__}: {e}")
            continue
        loader = getattr(getattr(module, "__spec__", None), "loader", None)
        if not isinstance(loader, importlib.machinery.ExtensionFileLoader):
            problems.append(f"{name} is not a compiled extension (loaded from {getattr(module, '__file__', None)})")
    if problems:
        return compiled
    kernels = sys.modules[LMCACHE_KERNELS]
    native = getattr(kernels, LMCACHE_PROBE_OP, None)
    if native is None:
        problems.append(f"{LMCACHE_KERNELS} has no {LMCACHE_PROBE_OP}: not the kernel module LMCache expects")
        return compiled
    try:
        ops = getattr(importlib.import_module("lmcache"), LMCACHE_DISPATCH)
    except Exception as e:
        problems.append(f"lmcache.{LMCACHE_DISPATCH}: {type(e).__name__}: {e} (import lmcache fell back to its "
                        "CLI-only mode: its warning above says why)")
        return compiled
    dispatched = getattr(ops, LMCACHE_PROBE_OP, None)
    # A wrapper whose __wrapped__ is the kernel counts too (functools.wraps, as a revision may add).
    if dispatched is not native and getattr(dispatched, "__wrapped__", None) is not native:
        problems.append(f"LMCache dispatches {LMCACHE_PROBE_OP} to {describe(dispatched)}, not to the compiled "
                        f"{LMCACHE_KERNELS}: it would run on its Python fallback")
    return compiled


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--facts", required=True, help="where to write the versions and LMCache modules as JSON")
    parser.add_argument("--gpu", action="store_true", help="a GPU node: also LMCache, torch and NIXL")
    parser.add_argument("pins", nargs="+", help="name=version, as pinned")
    args = parser.parse_args(argv)
    pins = dict(p.split("=", 1) for p in args.pins)
    problems, versions = [], {}
    for dist, want in pins.items():
        versions[dist] = installed_version(dist)
        if versions[dist] != want:
            problems.append(f"{dist} {versions[dist]} installed, {want} pinned")
    modules = ["ray", "vllm"] + (["torch", LMCACHE_VLLM_ADAPTER, "nixl._api"] if args.gpu else [])
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as e:
            problems.append(f"import {name}: {type(e).__name__}: {e}")
    facts = {"versions": versions}
    if args.gpu and not problems:
        versions["torch"] = sys.modules["torch"].__version__
        facts["lmcache"] = {"compiledModules": check_lmcache(problems)}
    with open(args.facts, "w") as f:
        json.dump(facts, f)
    summary = " ".join(f"{k}={v}" for k, v in versions.items())
    print(VERDICT + ("; ".join(problems) if problems else summary), flush=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
