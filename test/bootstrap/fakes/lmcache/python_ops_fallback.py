# The torch baseline every DeviceOps starts from (lmcache/v1/platform/base/device_ops.py in LMCache 0.5.6).
class DeviceOps:
    def ensure_native(self):
        return None

    def multi_layer_kv_transfer(self, *args, **kwargs):
        return None
