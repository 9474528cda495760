"""E15 adam_lookahead: ``port.py`` (JAX) beside ``reference.py`` (the seed's code)."""
