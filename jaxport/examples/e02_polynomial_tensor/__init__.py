"""E02 polynomial_tensor: ``port.py`` (JAX) beside ``reference.py`` (the seed's code)."""
