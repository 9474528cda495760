"""E25 loss_functions: ``port.py`` (JAX) beside ``reference.py`` (the seed's code)."""
