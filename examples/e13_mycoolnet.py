"""E13: the seed's MyCoolNet trained 10 steps with SGD momentum, as a flax nnx module inside a pure step.

    python examples/e13_mycoolnet.py                      # the JAX port, printing the seed's `Loss i: ...` lines
    python examples/e13_mycoolnet.py --framework torch    # the reference, for side-by-side reading
    python examples/e13_mycoolnet.py --dtype float64 --json

The default initial values are torch's nn.Linear init distribution drawn once in NumPy (default_rng(0));
--seed S draws standard normals instead. Every flag of `jaxport run` works here; the port is
jaxport/examples/e13_mycoolnet.py.
"""

import sys

from jaxport.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "E13", *sys.argv[1:]]))
