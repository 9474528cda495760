"""E23 grad_clipping: ``port.py`` (JAX) beside ``reference.py`` (the seed's code)."""
