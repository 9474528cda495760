"""E08: the seed's DynamicNet (a random 4, 5 or 6 terms each step, 'e' shared), ported with the order as data.

    python examples/e08_dynamic_net.py                      # the JAX port, printing the seed's lines
    python examples/e08_dynamic_net.py --framework torch    # the reference, for side-by-side reading
    python examples/e08_dynamic_net.py --seed 3 --steps 4000
    python examples/e08_dynamic_net.py --orders orders.json # a JSON list of 4/5/6, one per step

--seed S draws the initial values (numpy.random.default_rng(S)) and the orders
(random.Random(S).randint(4, 6)). Every flag of `jaxport run` works here; the port is
jaxport/examples/e08_dynamic_net.py.
"""

import sys

from jaxport.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "E08", *sys.argv[1:]]))
