"""E05 polynomial_nn: ``port.py`` (JAX) beside ``reference.py`` (the seed's code)."""
