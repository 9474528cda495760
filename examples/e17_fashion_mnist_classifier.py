"""E17 fashion_mnist_classifier: the JAX counterpart of seed 002's "Part 2-4" script.

The seed's epoch is a Python loop over a shuffled ``DataLoader`` that mutates the model, the optimizer
and ``running_loss``. Here each epoch's shuffle is drawn up front and passed in as data, one step is one
batch, and ``print_every`` is an epoch's batches: each epoch is one compiled ``lax.scan`` of batch
updates, the seed's "Training loss" printed after it. A scan needs one shape, so the partial last batch
is padded to 64 rows with a mask.

The port (the seed's code beside it: reference.py): jaxport/examples/e17_fashion_mnist_classifier/port.py.
The loop, the same for every training script: examples/_loop.py.

Run: python examples/e17_fashion_mnist_classifier.py (the same lines as jaxport run E17)
"""

from _loop import train

from jaxport.examples.e17_fashion_mnist_classifier.port import EXAMPLE

if __name__ == "__main__":
    train(EXAMPLE)  # each step: one batch of Adam per step, each epoch one compiled scan
