"""E04 legendre_custom_function: ``port.py`` (JAX) beside ``reference.py`` (the seed's code)."""
