"""E17 reference: the seed's Classifier, NLLLoss and Adam, trained with its epoch loop over a DataLoader.

Part 4's code as written. Changes from the seed: the images come in as data (a ``TensorDataset``
of the arrays both frameworks get; the seed's ``trainset`` is torchvision's Fashion-MNIST) and the
initial weights as arguments, loaded with ``load_state_dict(strict=True)``; ``shuffle=True`` is
replaced by a sampler that replays the drawn order (:class:`jaxport.reference.ReplaySampler`: each epoch's
permutation, read back from the steps' ``idx`` and ``mask``), so ``trainloader`` makes the same
batches, the partial last one included (``drop_last=False``, torch's default); ``epochs`` follows
from the run's steps (``len(trainloader)`` batch updates an epoch); a Recorder keeps every step.
Not in the seed: ``cfg.optimizer == "adamw"`` trains with ``optim.AdamW(..., weight_decay=cfg.weight_decay)``
instead of ``optim.Adam``.
"""

import math
from collections.abc import Mapping

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn, optim

from jaxport.reference import ReplaySampler, RunContext, optimizer_state, replay_epochs, training_reference
from jaxport.spec import RefRun

FRAMEWORK = "torch"


# phase: model
class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 128)
        self.fc3 = nn.Linear(128, 64)
        self.fc4 = nn.Linear(64, 10)

    def forward(self, x):
        # make sure input tensor is flattened
        x = x.view(x.shape[0], -1)

        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = F.relu(self.fc3(x))
        x = F.log_softmax(self.fc4(x), dim=1)

        return x


def sequential() -> nn.Sequential:
    """The seed's alternative: a simple model defined via ``Sequential``."""
    return nn.Sequential(nn.Linear(784, 384),
                         nn.ReLU(),
                         nn.Linear(384, 128),
                         nn.ReLU(),
                         nn.Linear(128, 10),
                         nn.LogSoftmax(dim=1))


# phase: setup
@training_reference
def train(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], cfg, run: RunContext) -> RefRun:
    # phase: data
    images = torch.tensor(data["images"], device=run.device, dtype=run.dtype)
    labels = torch.tensor(data["labels"], device=run.device, dtype=torch.int64)
    trainset = torch.utils.data.TensorDataset(images, labels)
    per_epoch = math.ceil(len(trainset) / cfg.batch_size)
    sampler = ReplaySampler(replay_epochs(data["idx"][: cfg.steps], data["mask"][: cfg.steps], per_epoch), len(trainset))
    trainloader = torch.utils.data.DataLoader(trainset, batch_size=cfg.batch_size, sampler=sampler)

    # phase: model
    model = Classifier().to(device=run.device, dtype=run.dtype)
    model.load_state_dict({k: torch.tensor(v, dtype=run.dtype) for k, v in params.items()}, strict=True)
    # phase: loss
    criterion = nn.NLLLoss()
    # phase: update
    if cfg.optimizer == "adamw":  # not in the seed: decoupled weight decay (jaxport compare E17 --set optimizer=adamw)
        optimizer = optim.AdamW(model.parameters(), lr=cfg.lr, betas=cfg.betas, eps=cfg.eps, weight_decay=cfg.weight_decay)
    else:
        optimizer = optim.Adam(model.parameters(), lr=cfg.lr, betas=cfg.betas, eps=cfg.eps)

    # phase: data
    epochs = len(sampler.epochs)
    # not in the seed: --set print_every=N other than an epoch prints the epoch's mean loss so far every N batches
    every = None if cfg.print_every == len(trainloader) else cfg.print_every
    t = 0
    for e in range(epochs):
        running_loss = 0
        batches = 0
        for images, labels in trainloader:
            # phase: model
            log_ps = model(images)
            # phase: loss
            loss = criterion(log_ps, labels)
            run.rec.loss(loss)

            # phase: gradients
            optimizer.zero_grad()
            loss.backward()
            if run.record:  # (building the state costs a little: not when timed)
                run.rec.step(optimizer_state(model, optimizer), {k: p.grad for k, p in model.named_parameters()},
                             optimizer, dict(model.named_parameters()))
            # phase: update
            optimizer.step()

            # phase: report
            running_loss += loss.item()
            batches += 1
            if every is not None and t % every == every - 1:  # the epoch's mean loss so far, every N batches
                run.rec.print(f"Training loss: {running_loss/batches}")
            t += 1
        if every is None and batches == len(trainloader):  # a whole epoch (a run cut short prints no partial one)
            run.rec.print(f"Training loss: {running_loss/len(trainloader)}")

    # phase: other
    return run.rec.finish(optimizer_state(model, optimizer))
