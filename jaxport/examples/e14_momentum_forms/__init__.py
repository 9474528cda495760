"""E14 momentum_forms: ``port.py`` (JAX) beside ``reference.py`` (the seed's code)."""
