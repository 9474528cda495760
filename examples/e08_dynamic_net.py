"""E08 dynamic_net: the JAX counterpart of seed 000's "Control Flow and Weight Sharing" script.

The seed's ``forward`` draws ``random.randint(4, 6)`` and loops over ``range(4, order)``: Python rebuilds
the graph every step, and ``e`` is shared by every extra term. A compiled ``lax.scan`` has one fixed
program, so the draw becomes data: the 30000 orders are drawn up front (``random.Random(0)``), the step
reads ``orders[t]`` and masks the extra terms with it. At order 4 ``e`` gets no gradient and torch's SGD
skips it; the step says so explicitly (``present=``), since a JAX gradient is never absent.

The port (the seed's code beside it: reference.py): jaxport/examples/e08_dynamic_net/port.py.
The loop, the same for every training script: examples/_loop.py.

Run: python examples/e08_dynamic_net.py (the same lines as jaxport run E08)
"""

from _loop import train

from jaxport.examples.e08_dynamic_net.port import EXAMPLE

if __name__ == "__main__":
    train(EXAMPLE)  # each step: the order of each step is data: orders[t], masked terms
