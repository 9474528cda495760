"""E15: LookAhead around torch's Adam on the seed's MyCoolNet loop, as one optax transformation.

    python examples/e15_adam_lookahead.py                     # the JAX port, printing `Loss i: ...` every 10 steps
    python examples/e15_adam_lookahead.py --framework torch   # the reference (LookAhead written from the paper)
    python examples/e15_adam_lookahead.py --steps 500 --lr 1e-2 --dtype float64

Every flag of `jaxport run` works here; the port is jaxport/examples/e15_adam_lookahead.py.
"""

import sys

from jaxport.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "E15", *sys.argv[1:]]))
