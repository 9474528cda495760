"""E17: the seed's Fashion-MNIST Classifier trained 5 epochs with Adam, each epoch one compiled lax.scan.

    python examples/e17_fashion_mnist_classifier.py                    # the JAX port on the offline digits
    python examples/e17_fashion_mnist_classifier.py --framework torch  # the reference, for side-by-side reading
    python examples/e17_fashion_mnist_classifier.py --data-dir ~/data/FashionMNIST/raw   # the real IDX files

Every flag of `jaxport run` works here; the port is jaxport/examples/e17_fashion_mnist_classifier.py.
"""

import sys

from jaxport.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "E17", *sys.argv[1:]]))
