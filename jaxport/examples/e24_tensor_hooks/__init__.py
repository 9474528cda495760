"""E24 tensor_hooks: ``port.py`` (JAX) beside ``reference.py`` (the seed's code)."""
