"""E09 state_dict_io: ``port.py`` (JAX) beside ``reference.py`` (the seed's code)."""
