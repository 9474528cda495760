"""E21 cifar_cnn: ``port.py`` (JAX) beside ``reference.py`` (the seed's code)."""
