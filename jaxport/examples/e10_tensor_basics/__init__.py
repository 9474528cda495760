"""E10 tensor_basics: ``port.py`` (JAX) beside ``reference.py`` (the seed's code)."""
