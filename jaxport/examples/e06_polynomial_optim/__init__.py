"""E06 polynomial_optim: ``port.py`` (JAX) beside ``reference.py`` (the seed's code)."""
