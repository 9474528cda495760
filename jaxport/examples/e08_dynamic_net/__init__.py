"""E08 dynamic_net: ``port.py`` (JAX) beside ``reference.py`` (the seed's code)."""
