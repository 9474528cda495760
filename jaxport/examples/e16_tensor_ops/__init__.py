"""E16 tensor_ops: ``port.py`` (JAX) beside ``reference.py`` (the seed's code)."""
