"""E28 reference: the seed's dummy dataloader and training loop, as written, with its shuffle replayed.

Changes from the seed: the dataset comes in as data (the seed: ``torch.randn``) and the initial
weights as arguments, loaded with ``load_state_dict(strict=True)``; ``shuffle(dataloader)`` is
replaced by the same draw made up front, ``data["order"]`` (``random.Random(seed).shuffle`` of the
batch indices each epoch: what the seed's ``shuffle`` does after ``random.seed(seed)``); ``epochs``
follows from the run's steps (25 batch updates an epoch); a Recorder keeps every step.
"""

import math
from collections.abc import Mapping

import numpy as np
import torch

from jaxport.examples.e27_pytorch_linear_regression.reference import PyTorchLinearRegression  # the seed's one class
from jaxport.reference import RunContext, training_reference
from jaxport.spec import RefRun

FRAMEWORK = "torch"


# phase: data
def create_dummy_dataloader(X, y, batch_size=4):
    def create_batches(data):
        return [
            data[idx*batch_size: (idx+1) * batch_size] if (idx + 1) * batch_size < len(data)
            else data[idx*batch_size:]
            for idx in range(len(data) // batch_size)
        ]
    batched_X = create_batches(X)
    batched_y = create_batches(y)
    return list(zip(batched_X, batched_y))


# phase: setup
@training_reference
def train(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], cfg, run: RunContext) -> RefRun:
    # phase: data
    X = torch.tensor(data["X"], device=run.device, dtype=run.dtype)  # 100 examples, 4 features each
    y = torch.tensor(data["y"], device=run.device, dtype=run.dtype)
    dataloader = create_dummy_dataloader(X, y, batch_size=cfg.batch_size)
    # phase: model
    model = PyTorchLinearRegression(X.shape[1], 1).to(run.device, run.dtype)
    model.load_state_dict({k: torch.tensor(v, dtype=run.dtype) for k, v in params.items()}, strict=True)

    # phase: data
    order = data["order"][: cfg.steps].tolist()  # the batch of every step, drawn up front
    epochs = math.ceil(cfg.steps / len(dataloader))

    # phase: update
    optimiser = torch.optim.SGD(model.parameters(), lr=cfg.lr)
    for epoch in range(epochs):
        # phase: data
        # seed: shuffle(dataloader); here the same draw, replayed
        epoch_batches = [dataloader[i] for i in order[epoch * len(dataloader): (epoch + 1) * len(dataloader)]]
        for batch in epoch_batches:
            features, labels = batch
            # phase: model
            prediction = model(features)
            # phase: loss
            loss = torch.nn.functional.mse_loss(prediction, labels)
            run.rec.loss(loss)
            # phase: gradients
            loss.backward()
            run.rec.step(dict(model.named_parameters()), {k: p.grad for k, p in model.named_parameters()},
                         optimiser, dict(model.named_parameters()))
            # phase: update
            optimiser.step()
            # phase: gradients
            optimiser.zero_grad()
        # phase: report
        if len(epoch_batches) == len(dataloader):  # a whole epoch (a run cut short prints no partial one)
            run.rec.print(f"Loss: {loss.item()}\n")  # seed: print("Loss:", loss.item()); print()

    return run.rec.finish(dict(model.named_parameters()))
