"""E07 polynomial_module: ``port.py`` (JAX) beside ``reference.py`` (the seed's code)."""
