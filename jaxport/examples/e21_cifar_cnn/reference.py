"""E21 reference: the seed's ``Net`` trained as the blitz's CIFAR-10 classifier, as written.

Changes from the blitz: the initial weights come in as arguments (loaded with
``load_state_dict(strict=True)``); the training images come in as data, already through the
blitz's ``ToTensor()`` + ``Normalize((0.5,)*3, (0.5,)*3)`` (done once in NumPy, bit for bit
torch's float32 arithmetic) and wrapped in a ``TensorDataset`` instead of
``torchvision.datasets.CIFAR10`` (nothing is downloaded); ``shuffle=True`` is replaced by the same
per-epoch permutation drawn up front (``data["order"]``), replayed through a sampler, and
``num_workers=2`` by 0 (the batches are the same; worker processes only add start-up time); the
print period is ``cfg.print_every`` (the blitz: 2000); ``epochs`` follows from the run's steps; a
Recorder keeps every step's parameters, momentum buffers, step counts, ``running_loss`` and
gradients under the JAX state's names.
"""

import math
from collections.abc import Mapping

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

from jaxport.examples.e22_manual_sgd_update.reference import Net  # the seed's Net, one definition
from jaxport.reference import ReplaySampler, RunContext, optimizer_state, replay_epochs, training_reference
from jaxport.spec import RefRun

FRAMEWORK = "torch"


# phase: data
def trainloader(trainset: TensorDataset, order: np.ndarray, mask: np.ndarray, epoch: int, batch_size: int) -> DataLoader:
    """Epoch ``epoch``'s loader: ``DataLoader(trainset, batch_size=4, shuffle=True)`` with the drawn
    order (its real rows; ``drop_last=False``, as the blitz's, makes the same partial last batch)."""
    per_epoch = math.ceil(len(trainset) / batch_size)
    (indices,) = replay_epochs(order[epoch * per_epoch: (epoch + 1) * per_epoch],
                               mask[epoch * per_epoch: (epoch + 1) * per_epoch], per_epoch)
    return DataLoader(trainset, batch_size=batch_size, sampler=ReplaySampler([indices]))


# phase: setup
@training_reference
def train(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], cfg, run: RunContext) -> RefRun:
    # phase: data
    # the normalised training set (no copy: from_numpy shares the array)
    trainset = TensorDataset(torch.from_numpy(np.ascontiguousarray(data["images"])).to(run.dtype),
                             torch.from_numpy(np.asarray(data["labels"], dtype=np.int64)))
    order, mask = np.asarray(data["order"][: cfg.steps]), np.asarray(data["mask"][: cfg.steps])
    per_epoch = math.ceil(len(trainset) / cfg.batch_size)  # len(trainloader)
    epochs = math.ceil(cfg.steps / per_epoch)

    # phase: model
    net = Net().to(run.device, run.dtype)
    net.load_state_dict({k: torch.tensor(v, dtype=run.dtype) for k, v in params.items()}, strict=True)

    # phase: loss
    criterion = nn.CrossEntropyLoss()
    # phase: update
    optimizer = optim.SGD(net.parameters(), lr=cfg.lr, momentum=cfg.momentum)

    # phase: setup
    counts = {k: 0 for k, _ in net.named_parameters()}  # steps in which each parameter had a gradient
    running_loss = 0.0

    def state() -> dict:
        return {**optimizer_state(net, optimizer, counts=counts), "running_loss": np.asarray(running_loss, dtype=np.float64)}  # a Python float

    # phase: data
    for epoch in range(epochs):  # loop over the dataset multiple times
        running_loss = 0.0
        for i, batch in enumerate(trainloader(trainset, order, mask, epoch, cfg.batch_size), 0):
            # get the inputs; batch is a list of [inputs, labels]
            inputs, labels = (x.to(run.device) for x in batch)

            # zero the parameter gradients
            # phase: gradients
            optimizer.zero_grad()

            # forward + backward + optimize
            # phase: model
            outputs = net(inputs)
            # phase: loss
            loss = criterion(outputs, labels)
            # phase: gradients
            loss.backward()
            run.rec.loss(loss)
            if run.record:  # (building the state costs a little: not when timed)
                run.rec.step(state(), {k: p.grad for k, p in net.named_parameters()}, optimizer, dict(net.named_parameters()))
            # phase: update
            optimizer.step()
            for k, p in net.named_parameters():
                counts[k] += p.grad is not None

            # print statistics
            # phase: report
            running_loss += loss.item()
            if i % cfg.print_every == cfg.print_every - 1:  # blitz: print every 2000 mini-batches
                run.rec.print(f"[{epoch + 1}, {i + 1:5d}] loss: {running_loss / cfg.print_every:.3f}")
                running_loss = 0.0

    if len(order) % per_epoch == 0:
        running_loss = 0.0  # the next epoch would start from 0.0 (the JAX state resets at the epoch's end)
    result = run.rec.finish(state())
    if run.report is not None:
        run.report("Finished Training")
    return result
