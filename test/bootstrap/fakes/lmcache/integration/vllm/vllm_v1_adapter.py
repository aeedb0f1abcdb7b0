import lmcache  # noqa: F401  (the adapter imports the package, which resolves lmcache.device_ops)
