"""E22 manual_sgd_update: ``port.py`` (JAX) beside ``reference.py`` (the seed's code)."""
