"""E28 dummy_dataloader_training: the JAX counterpart of seed 004's "Create a Dummy Dataloader; training loop" script.

The seed shuffles its Python list of batches in place at the start of every epoch (``random.shuffle``,
a hidden global generator). Here the shuffle is data: the batch order of every step is drawn up front
(``random.Random(0).shuffle`` of the batch indices, once per epoch) and passed in, so the 10 epochs are
one pure, compiled loop of batch updates, and torch replays the same order.

The port (the seed's code beside it: reference.py): jaxport/examples/e28_dummy_dataloader_training/port.py.
The loop, the same for every training script: examples/_loop.py.

Run: python examples/e28_dummy_dataloader_training.py (the same lines as jaxport run E28)
"""

from _loop import train

from jaxport.examples.e28_dummy_dataloader_training.port import EXAMPLE

if __name__ == "__main__":
    train(EXAMPLE)  # each step: one batch per step, the batch order drawn up front
