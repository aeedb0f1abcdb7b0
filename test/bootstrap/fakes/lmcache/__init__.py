# Like LMCache 0.5.6: `import lmcache` resolves the platform's DeviceOps singleton as `lmcache.device_ops`
# (lmcache/v1/platform/__init__.py, resolve_device_ops -> DeviceSpec.get_ops), whose ensure_native() binds every
# public op of the compiled lmcache.cuda_ops over the torch fallback with setattr, and only logs a warning when the
# extension does not import (lmcache/v1/platform/devices/cuda/device_ops.py). Callers such as the GPU connector
# use `from lmcache import device_ops`.
import importlib
import os
import sys

import torch
from lmcache.python_ops_fallback import DeviceOps


class CudaDeviceOps(DeviceOps):
    def ensure_native(self):
        if os.environ.get("STUB_LMCACHE_IGNORES_NATIVE") == "1":
            return
        try:
            native = importlib.import_module("lmcache.cuda_ops")
        except ImportError as e:
            print(f"WARNING lmcache.cuda_ops compiled extension not found ({e}); CudaDeviceOps stays on the torch "
                  "baseline for all ops.", file=sys.stderr)
            return
        for name in dir(native):
            if not name.startswith("_"):
                setattr(self, name, getattr(native, name))


device_ops = CudaDeviceOps() if torch.cuda.is_available() else DeviceOps()
device_ops.ensure_native()
