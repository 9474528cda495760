"""E15 reference: LookAhead around ``torch.optim.Adam``, on the seed's MyCoolNet loop.

torch has no LookAhead: :class:`Lookahead` is written from the method (Zhang et al. 2019,
Algorithm 1: k steps of the fast optimizer, then ``slow += alpha * (fast - slow)`` and
``fast = slow``), wrapping any torch optimizer. The loop is the seed's cell [179] (E13) with the
optimizer replaced. Changes from the seed: the initial weights and ``x`` come in as arguments; the
Recorder keeps the parameters, Adam's ``exp_avg``, ``exp_avg_sq`` (zeros before torch creates them)
and ``step`` per parameter, the slow weights and LookAhead's step count, under the JAX state's names.
"""

from collections.abc import Mapping

import numpy as np
import torch

from jaxport.examples.e13_mycoolnet.reference import MyCoolNet
from jaxport.reference import RunContext, optimizer_state, to_numpy, training_reference
from jaxport.spec import RefRun

FRAMEWORK = "torch"


# phase: other
class Lookahead:
    """LookAhead: ``optimizer`` moves the fast weights (the model's); every k steps the slow weights
    move to the interpolation ``slow + alpha * (fast - slow)`` and the fast weights restart there."""

    def __init__(self, optimizer: torch.optim.Optimizer, k: int = 5, alpha: float = 0.5):
        self.optimizer, self.k, self.alpha = optimizer, k, alpha
        self.step_count = 0
        self.slow = {p: p.detach().clone() for group in optimizer.param_groups for p in group["params"]}

    def zero_grad(self):
        self.optimizer.zero_grad()

    @torch.no_grad()
    def step(self):
        self.optimizer.step()  # one step of the fast optimizer
        self.step_count += 1
        if self.step_count % self.k == 0:
            for fast, slow in self.slow.items():
                slow.add_(fast - slow, alpha=self.alpha)  # slow += alpha * (fast - slow)
                fast.copy_(slow)  # fast = slow


def _state(model: torch.nn.Module, lookahead: Lookahead) -> dict:
    """Parameters and the whole optimizer state, by the JAX state's names: the fast Adam's (its buffers
    derived from its settings, its per-parameter steps), then the slow weights and LookAhead's step count."""
    out = optimizer_state(model, lookahead.optimizer)
    for k, p in model.named_parameters():
        out[f"slow.{k}"] = lookahead.slow[p]
    out["count"] = np.int32(lookahead.step_count)
    return out


# phase: update
@training_reference
def train(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], cfg, run: RunContext) -> RefRun:
    model = MyCoolNet(in_size=5, out_size=5).to(device=run.device, dtype=run.dtype)
    model.load_state_dict({k: torch.tensor(v, dtype=run.dtype) for k, v in params.items()}, strict=True)
    # Building a new network? Start with Adam: here as LookAhead's fast optimizer
    optimizer = Lookahead(torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=cfg.betas, eps=cfg.eps),
                          k=cfg.k, alpha=cfg.alpha)

    x = torch.tensor(data["x"], device=run.device, dtype=run.dtype)  # seed: torch.tensor([1.,2,3,4,5])

    for i in range(cfg.steps):
        out = model(x)
        loss = torch.sum((0 - out) ** 2)  # loss decreases as out->0
        run.rec.loss(loss)

        loss.backward()  # Calculate gradients
        run.rec.step(_state(model, optimizer), {k: p.grad for k, p in model.named_parameters()},
                     optimizer, dict(model.named_parameters()))
        optimizer.step()  # Step all weights in the direction of gradient
        optimizer.zero_grad()
        if i % cfg.print_every == cfg.print_every - 1:
            run.rec.print(f"Loss {i}: {loss.item()}")

    result = run.rec.finish(_state(model, optimizer))
    if run.report is not None:
        with torch.no_grad():
            out = to_numpy(model(x))
        body = np.array2string(out, precision=4, floatmode="fixed", separator=", ", prefix="tensor(")
        run.report(f"model(x) = tensor({body})")
    return result
