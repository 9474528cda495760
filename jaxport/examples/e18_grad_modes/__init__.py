"""E18 grad_modes: ``port.py`` (JAX) beside ``reference.py`` (the seed's code)."""
