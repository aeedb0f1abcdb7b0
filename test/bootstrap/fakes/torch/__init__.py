import os
import types

__version__ = os.environ.get("STUB_TORCH_VERSION", "2.11.0+cu130")
version = types.SimpleNamespace(cuda=os.environ.get("STUB_TORCH_CUDA", "13.0") or None)
cuda = types.SimpleNamespace(is_available=lambda: os.environ.get("STUB_CUDA_AVAILABLE", "1") == "1")
