"""E01 polynomial_numpy: ``port.py`` (JAX) beside ``reference.py`` (the seed's code)."""
