"""E29 grad_accumulation: ``port.py`` (JAX) beside ``reference.py`` (the seed's code)."""
