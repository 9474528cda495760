"""The one tolerance table: keyed by dtype × regime × device, a measured reason on every entry.

A comparison of a tree of values ``ours`` against ``ref`` at step t passes when, for every leaf,

    max |ours - ref|  <=  atol + rtol * scale(t) + factor * envelope(t)

where ``scale(t)`` is the largest |ref| over the whole tree at step t (gradients and parameters
are compared relative to the tree's magnitude, so a component that is ~0 by cancellation, like the
even coefficients' gradients, is not held to a relative error it cannot have), and ``envelope(t)`` is
the reference's own float32 rounding drift from a float64 run (running maximum up to t). ``factor``
is 0 unless an entry says why the trajectory is chaotic and can only be judged against that envelope;
such an entry may also give ``lookahead``, the rounding-decided jitter (in steps) of a burst's onset.

Regimes:
    same_point      loss and every gradient at identical parameters (torch's, at every step)
    teacher_forced  one JAX step from torch's parameters at step t, against torch's step t+1
    free_running    each framework runs on its own: loss at every step, final parameters
    float64_drift   (float32 runs) JAX float32 against a float64 reference run: its rounding drift
                    may be at most ``factor`` times the reference's own float32 drift (+ atol/rtol)
    values          a demonstration example's named values, each leaf relative to its own size

Overrides for one example go in OVERRIDES with their own reason; the harness resolves through
:func:`tolerance` only.
"""

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float
    reason: str
    factor: float = 0.0
    # chaotic runs only: how many steps ahead the loss envelope looks. Where a burst's onset is
    # itself decided by rounding, two roundings start it a few steps apart; the envelope at step t
    # is then the reference's own spread up to step t + lookahead, not up to t alone.
    lookahead: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


REGIMES = ("same_point", "teacher_forced", "free_running", "float64_drift", "values")

TABLE: dict[tuple[str, str, str], Tolerance] = {
    # float32 on CPU. XLA and torch/NumPy sum 2000 float32 terms in different orders. Measured on the
    # polynomial ladder (E01–E04, seed 0; XLA's direct reduce, training.CPU_COMPILER_OPTIONS):
    # same_point <= 1.8e-5 of the gradient tree (inside the envelope), teacher_forced <= 1.2e-7,
    # free_running <= 1.5e-6, float64_drift within 0.5x torch's. E08 (30000 steps, SGD momentum):
    # same_point 8.6e-6, teacher_forced (torch's gradients fed to the JAX update) 6.1e-7,
    # free_running its own entry (OVERRIDES), float64_drift within 0.55x torch's.
    # Optimizer buffers are accumulated gradients and are held to the same_point entry.
    ("float32", "same_point", "cpu"): Tolerance(
        1e-5, 0.0,
        "float32 sums of 2000 terms in another order. Late in a run the gradients cancel to ~2% of their terms "
        "(E03 step 1919: |g_d| 5.5, sum of |terms| 1976) and both frameworks sit far from float64 there (g_d: jax "
        "1.0e-4, torch 1.8e-4 relative; g_c (value 0.16): jax 2.6e-3, torch 2.0e-3): so |jax - torch| may reach 4x torch's own error from a float64 evaluation, plus 1e-5 relative",
        factor=4.0,
    ),
    ("float32", "teacher_forced", "cpu"): Tolerance(
        1e-6, 0.0, "one step from the same parameters: p - lr*g differs through g's rounding, ~1 ulp of p (measured 1.2e-7)"
    ),
    ("float32", "free_running", "cpu"): Tolerance(
        1e-5, 0.0,
        "per-step rounding accumulates over the run: measured <= 1.5e-6 relative over 2000 SGD steps (E01–E05, E07)"
    ),
    ("float32", "float64_drift", "cpu"): Tolerance(
        1e-6, 0.0, "JAX float32's drift from a float64 run may be at most 4x torch float32's own drift (+1e-6 relative)", factor=4.0
    ),
    # float64 on CPU: the same algorithms at ~1e-16 unit roundoff.
    ("float64", "same_point", "cpu"): Tolerance(1e-12, 0.0, "float64 sums in another order, cancelling late in a run: measured <= 4.9e-14 (E01–E04), 2.9e-13 (E08 at 30000 steps) of the tree's magnitude"),
    ("float64", "teacher_forced", "cpu"): Tolerance(1e-14, 0.0, "one float64 step from the same state: measured <= 2.1e-16 (E01–E04), 1.2e-15 (E08 momentum buffers)"),
    ("float64", "free_running", "cpu"): Tolerance(1e-12, 0.0, "float64 runs: measured <= 2.8e-15 relative (E01–E04), 5.6e-14 over 30000 steps (E08)"),
    # A demonstration's values come from a few operations each (a small matmul, one optimizer step).
    ("float32", "values", "cpu"): Tolerance(1e-6, 0.0, "a few float32 operations in another order: ~10 ulp (6e-8 each)"),
    ("float64", "values", "cpu"): Tolerance(1e-13, 0.0, "a few float64 operations in another order: ~100 ulp (1.1e-16 each)"),
}
# GPU: not measured yet (issue 7). With JAX matmul precision 'highest' and torch TF32 off, the
# elementwise-and-reduce polynomial examples do the same float work as on CPU in another order, so
# the CPU entries are taken over as they are; a GPU run reports which precision setting it used.
TABLE.update({(d, r, "gpu"): t for (d, r, dev), t in list(TABLE.items()) if dev == "cpu"})

_E06_CHAOS = (
    "E06 RMSprop is chaotic: the even coefficients' gradients are ~0 by symmetry and RMSprop divides their "
    "rounding noise by its own RMS, so noise of any size moves them by ~lr. Two roundings of the run part near "
    "step 1250 (default init), at a step that rounding itself decides ({jitter}), and their losses burst apart "
    "after it. So |jax - torch| "
    "is judged against the spread of torch's own float32 and float64 runs, that spread looking 50 steps ahead for "
    "the onset's jitter. Measured: beyond its rtol part, |jax - torch| reached {peak} of that spread ({at}), "
    "{used} of the whole bound"
)
_E06_JITTER = ("the losses part by 1e-3 relative at step 1215 for JAX vs torch float32, 1252 for JAX vs torch "
               "float64; the loss first rises by 1% at step 1454 in torch float32, 1570 in JAX float32, 1604 and 1603 "
               "in torch and JAX float64")
_E17_ADAM = (
    "Adam divides each gradient by its running RMS, so a rounding difference in a small gradient becomes a "
    "difference of up to ~lr in its weight, and it compounds over 120 steps (5 epochs of the offline digits). "
    "So the final state is judged against torch's own float32-float64 envelope. Measured over init seeds 0-9: "
    "seeds 0-2, 4, 6, 7 and 9 pass. Not covered: seed 3, where an fc3 pre-activation 2.0e-6 from 0 at step 85 "
    "of JAX's float32 trajectory lies on the other side of the kink in torch's (at JAX's own state both "
    "frameworks' gradients agree to 3.7e-7: the trajectories part at a rounding-decided ReLU kink, 8.6e-6 in "
    "the next loss, then Adam grows it to 1.5e-4); seeds 5 and 8, whose losses agree to 1e-6 throughout but "
    "whose final fc2/fc4 weights reach 2.3x and 1.03x the free-running bound (1.15x and 1.03x the "
    "drift bound)"
)
OVERRIDES: dict[tuple[str, str, str, str], Tolerance] = {
    ("E06", "float32", "free_running", "cpu"): Tolerance(
        1e-5, 0.0, _E06_CHAOS.format(jitter=_E06_JITTER, peak="1.20x", at="0.weight at the end",
                                     used="0.40x"), factor=3.0, lookahead=50),
    ("E06", "float32", "float64_drift", "cpu"): Tolerance(
        1e-6, 0.0, _E06_CHAOS.format(jitter=_E06_JITTER, peak="1.06x", at="square_avg.0.weight at the end", used="0.35x"),
        factor=3.0, lookahead=50),
    ("E06", "float64", "free_running", "cpu"): Tolerance(
        1e-12, 0.0, _E06_CHAOS.format(jitter=_E06_JITTER, peak="1.12x", at="0.weight at the end", used="0.37x"),
        factor=3.0, lookahead=50),
    ("E22", "float32", "values", "cpu"): Tolerance(
        2e-6, 0.0, "conv and fc gradients are sums of hundreds of float32 products: over 10 data seeds both "
        "frameworks sit 4-7e-7 from float64 and their gap reaches 1.1e-6 (grad.fc2.weight, data seed 7; 8.6e-7 "
        "at data seed 3 on an earlier run: it varies with torch's threading)"),
    ("E08", "float32", "free_running", "cpu"): Tolerance(
        1e-5, 0.0, "30000 SGD-momentum steps accumulate rounding: torch's own float32 run sits up to 2.3e-5 "
        "relative from its float64 run (the loss at step 28887), above a flat 1e-5. JAX float32 sits 9.7e-6 from "
        "torch float32 there (97% of that flat bound, less than half torch's own drift), and within 0.55x torch's drift from float64 (float64_drift). So |jax - torch| is "
        "judged against that drift too: two float32 runs each about 1x of it from float64 are at most 2x of it "
        "apart (+1e-5 relative)", factor=2.0),
}


OVERRIDES.update({
    ("E19", "float32", "values", "cpu"): Tolerance(
        1e-3, 0.0, "ResNet-18 gradients through 20 train-mode BatchNorms: where ReLU passes a channel's gradient "
        "uniformly, BatchNorm's backward cancels it to ~0 and keeps rounding noise; at layer4 (4 values per channel) "
        "over data seeds 0, 2-4 both frameworks sit up to 4.7e-4 (jax) and 3.9e-4 (torch) from float64 and their gap "
        "reaches 4.6e-4 (grad.layer4.0.conv1.weight, data seed 3; 0.9-1.2e-4 at the default seed 0, varying with torch's threading). Not covered: data "
        "seed 1, where a pre-ReLU value of 2.0e-6 (layer2.1.bn1) lands on the other side of 0 in JAX float32 only "
        "(gap 0.35): a rounding-decided kink, not a port error"),
    ("E19", "float64", "values", "cpu"): Tolerance(
        2e-12, 0.0, "the same cancellations in float64: over data seeds 0-4 the gap reaches 6.6e-13 "
        "(grad.layer4.1.conv2.weight, data seed 2)"),
    ("E17", "float32", "free_running", "cpu"): Tolerance(
        1e-5, 0.0, _E17_ADAM + "; of the covered seeds, JAX float32 against torch float32 needed at most 4.0x "
        "that envelope beyond 1e-5 relative (fc3.weight, seed 9: at the bound)", factor=4.0),
    ("E17", "float32", "float64_drift", "cpu"): Tolerance(
        1e-6, 0.0, _E17_ADAM + "; of the covered seeds, JAX float32's drift from float64 needed up to 6.7x "
        "torch float32's per leaf (fc3.weight, seed 9)", factor=8.0),
})


OVERRIDES.update({(e, d, r, "gpu"): t for (e, d, r, dev), t in list(OVERRIDES.items()) if dev == "cpu"})


def tolerance_text(t: dict) -> str:
    """A tolerance (``Tolerance.as_dict()``, as ``compare --json`` stores it) in a report's words."""
    s = f"rtol {t['rtol']:.0e}" + (f" atol {t['atol']:.0e}" if t.get("atol") else "")
    return s + (f" + {t['factor']:g}×env" if t.get("factor") else "")


def is_override(example_id: str, dtype: str, regime: str, device: str) -> bool:
    """Whether an example has its own entry for this comparison (it then covers its whole state)."""
    return (example_id, dtype, regime, device) in OVERRIDES


def tolerance(example_id: str, dtype: str, regime: str, device: str) -> Tolerance:
    """The tolerance for one comparison: an example's override, else the table's entry."""
    key = (dtype, regime, device)
    if (example_id, *key) in OVERRIDES:
        return OVERRIDES[(example_id, *key)]
    try:
        return TABLE[key]
    except KeyError:
        raise KeyError(f"no tolerance for dtype={dtype} regime={regime} device={device}: add a measured entry") from None
