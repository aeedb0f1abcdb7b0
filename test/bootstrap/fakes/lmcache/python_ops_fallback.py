def multi_layer_kv_transfer(*args, **kwargs):
    return None
