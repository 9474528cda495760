"""E21: the seed's Net trained as the blitz's CIFAR-10 classifier; torch's layouts kept, the run one lax.scan.

    python examples/e21_cifar_cnn.py                          # the JAX port on the offline digits, the blitz's lines
    python examples/e21_cifar_cnn.py --framework torch        # the reference, for side-by-side reading
    python examples/e21_cifar_cnn.py --data-dir ~/data/cifar-10-batches-bin --steps 25000   # the blitz's 2 epochs

With --data-dir (CIFAR-10's binary version, or the directory holding cifar-10-batches-bin/) pass
--steps: the default covers 2 epochs of the digits (200 steps); one CIFAR-10 epoch is 12500. Keep
`jaxport compare E21 --data-dir ...` to a few hundred steps: it records every step's parameters,
momentum buffers and gradients. Every flag of `jaxport run` works here; the port is
jaxport/examples/e21_cifar_cnn.py.
"""

import sys

from jaxport.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "E21", *sys.argv[1:]]))
