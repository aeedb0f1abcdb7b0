import lmcache  # noqa: F401  (the adapter imports the package, which installs lmcache.c_ops)
