"""E03 polynomial_autograd: ``port.py`` (JAX) beside ``reference.py`` (the seed's code)."""
