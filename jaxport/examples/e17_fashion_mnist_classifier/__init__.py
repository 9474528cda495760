"""E17 fashion_mnist_classifier: ``port.py`` (JAX) beside ``reference.py`` (the seed's code)."""
