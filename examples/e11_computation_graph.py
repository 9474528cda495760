"""E11 computation_graph: the JAX counterpart of seed 001's "Computation Graphs and Autograd" script.

torch records the graph as a side effect of the forward pass (a ``grad_fn`` on each result), and
``backward()`` walks it once and stores ``.grad`` on the leaves. In JAX the graph is the Python
function: ``jax.grad(loss)`` returns every leaf's gradient as a value, and ``jax.make_jaxpr(forward)``
shows the graph (the port's ``graph_lines()`` prints it). The last line counts the jaxpr's equations,
which the parity test checks against torch's grad_fn nodes.

The port (the seed's code beside it: reference.py): jaxport/examples/e11_computation_graph/port.py.

Run: python examples/e11_computation_graph.py (the same lines as jaxport run E11)
"""

import jax
from _loop import inputs

from jaxport.examples.e11_computation_graph.port import EXAMPLE

if __name__ == "__main__":
    cfg, params, data = inputs(EXAMPLE)  # the seed's settings, values and data, on the CPU
    values = EXAMPLE.values(params, data, cfg)  # the forward pass, and jax.grad over the five leaves
    for line in EXAMPLE.value_lines(jax.device_get(values)):  # device_get: the values as NumPy arrays
        print(line)
