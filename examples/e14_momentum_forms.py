"""E14: the notes' EMA momentum, torch's SGD momentum and its dampening, run side by side as optax transforms.

    python examples/e14_momentum_forms.py                     # the JAX port: w along the three forms
    python examples/e14_momentum_forms.py --framework torch   # the reference, for side-by-side reading
    python examples/e14_momentum_forms.py --steps 1000 --lr 0.01 --dtype float64

--steps sets the length of the gradient stream, --lr torch's learning rate (the notes' α is lr/(1-β)).
Every flag of `jaxport run` works here; the port is jaxport/examples/e14_momentum_forms.py.
"""

import sys

from jaxport.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "E14", *sys.argv[1:]]))
