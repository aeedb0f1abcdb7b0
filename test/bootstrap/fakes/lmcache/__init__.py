# Like LMCache 0.5.x: `lmcache.c_ops` is a stand-in over the Python fallback, with the compiled kernels bound over
# it when lmcache.cuda_ops imports; a failed import is only logged.
import importlib
import os
import sys
import types

import torch
from lmcache import python_ops_fallback


def _install_c_ops_shim():
    ops = types.SimpleNamespace(
        **{n: getattr(python_ops_fallback, n) for n in dir(python_ops_fallback) if not n.startswith("_")}
    )
    if torch.cuda.is_available() and os.environ.get("STUB_LMCACHE_IGNORES_NATIVE") != "1":
        try:
            native = importlib.import_module("lmcache.cuda_ops")
        except ImportError as e:
            print(f"WARNING lmcache.cuda_ops compiled extension not found ({e}); staying on the torch baseline",
                  file=sys.stderr)
        else:
            for name in dir(native):
                if not name.startswith("_"):
                    setattr(ops, name, getattr(native, name))
    shim = types.ModuleType("lmcache.c_ops")
    shim.__getattr__ = lambda name: getattr(ops, name)
    sys.modules["lmcache.c_ops"] = shim
    globals()["c_ops"] = shim


_install_c_ops_shim()
