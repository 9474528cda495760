"""E13 mycoolnet: ``port.py`` (JAX) beside ``reference.py`` (the seed's code)."""
