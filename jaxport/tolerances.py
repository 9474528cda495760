"""The one tolerance table: keyed by dtype × regime × device, the reason on every entry.

Three kinds of bound (``Tolerance.judge``), each derived from the rounding of the computation at
hand rather than calibrated at one seed, so that it holds for any init, data and seed
(``jaxport compare EXX --seeds 0:50`` shows it):

**truth** (same_point, values, and the optimizer's update). In a float32 run the reference
evaluates the same point again in float64: the *truth*, to ~1e-16, for the float32 values both
frameworks computed. Each framework's float32 error is its distance from that truth. A correct port
rounds differently from torch but by amounts that scale together: sums of the same terms in
another order both err by at most γₙ·Σ|terms|, whatever the point's conditioning. So for every leaf
and step

    max |jax - truth|  <=  factor · envelope  +  ulps · eps · max |truth|

where ``envelope`` is the reference's own ``max |ref - truth|`` for that leaf, its largest over
``window`` sampled steps either side. Why a window: at one point an error is one draw of a random
quantity, and a draw can be lucky (a scalar gradient that torch happens to round almost exactly);
neighbouring steps evaluate the same expression at nearly the same parameters, so the largest of
their errors measures the error's *size*, which one lucky draw cannot shrink. ``factor`` covers
summation orders of different accuracy (XLA's CPU reduction accumulates long runs of terms; torch
splits its sums) and the tail of the error's distribution; ``ulps`` covers a leaf both frameworks
compute almost exactly (each result is rounded at least once). The truth comes from the reference,
never from JAX, so a wrong JAX value cannot widen its own bound; an error that is not rounding (a
wrong formula, a wrong layout) lands orders of magnitude outside it.

Where a leaf still fails, a kink may be to blame: a ReLU pre-activation within rounding of zero,
whose side each framework picks by its own rounding, moves a gradient by that unit's whole share.
The reference then evaluates the point again with every parameter moved by a few eps
(``harness.rounding_spread``); its largest distance from the truth there stands in for its error.
A port error is not rounding, and no such perturbation produces it.

In a float64 run the reference is its own truth. Its rounding is estimated from float32's: the
reference evaluates the point rounded to float32 in float32 and in float64, and that float32 error
times eps64/eps32 (rounding is linear in the unit roundoff; the point's cancellation is the same)
is the envelope of ``|jax - ref|``.

**terms** (teacher_forced, where the example's update stands alone: ``TrainingExample.has_update``). One optimizer step from identical
inputs (torch's state and torch's gradients): the two results differ only by the arithmetic's
rounding, a few roundings of the terms each element is made of (``p - lr·u``, ``β·m + (1-β)·g``),
so element by element ``|jax - ref| <= ulps · eps · terms``: the old and new value bound those terms,
and a parameter's also include its step times its buffers' cancellation, where ``β·m + g`` cancelled
and ``p - lr·m`` carries the rounding of the larger terms (``harness.update_terms``).

**reference** (free runs, optimizer buffers in them, steps that include a forward pass, and tests
comparing a few operations directly). ``|jax - ref| <= atol + rtol · scale + factor · envelope``,
the scale being the tree's largest |ref| at that step (a component ~0 by cancellation is not held
to a relative error it cannot have) and the envelope the reference's own float32 drift from its
float64 run. A free run that parts beyond it is decided by shadowing (``harness``), never by a
wider bound.

Everywhere, values below the smallest normal number may differ by a few of it
(``harness.FLUSH``): XLA's CPU flushes subnormals to zero, torch keeps them.

Regimes:
    same_point      loss and every gradient at identical parameters (torch's, at every step)
    teacher_forced  one JAX step from torch's state at step t, against torch's step t+1; and, in
                    float32, the update itself (key ``update``), probed at p = 0 so that it is not
                    rounded away by the parameters (reference.update_probe). A float64 step resolves
                    the update to ~eps of the parameters already
    free_running    each framework runs on its own: loss at every step, final state; a run that
                    parts is decided by shadowing (harness), not by a wider bound
    float64_drift   (float32 runs) JAX float32 against a float64 reference run: its rounding drift
                    may be at most ``factor`` times the reference's own float32 drift (+ atol/rtol)
    values          a demonstration example's named values

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
    judge: str = "reference"  # "reference", "truth" or "terms" (the module's docstring)
    window: int = 0  # truth: the reference's error envelope spans this many sampled steps either side
    ulps: float = 0.0  # truth, terms: machine epsilons of the leaf's magnitude (truth) or of each element's terms
    own: float = 0.0  # truth: times JAX's own float32 rounding (its distance from its own float64 evaluation)

    def as_dict(self) -> dict:
        return asdict(self)


REGIMES = ("same_point", "teacher_forced", "free_running", "float64_drift", "values")
# The table's other keys: "update", teacher_forced's check of the update itself; "step", teacher_forced
# where the step includes the forward pass (no update alone; "step_state" where its state is more than parameters);
# "buffers", optimizer buffers in the trajectory regimes;
# "direct", for tests comparing a few operations of both frameworks directly
KEYS = REGIMES + ("update", "step", "step_state", "buffers", "direct")

def _truth(factor: float, window: int, ulps: float, why: str, kinks: bool = True) -> str:
    """The reason of a truth-judged entry."""
    where = f" (its largest within {window} sampled steps either side)" if window else " at the same point"
    kink = ("; where that fails, the reference's largest distance under rounding-sized perturbations of the "
            "parameters stands in for its own (a kink decided by rounding)") if kinks else ""
    return (f"JAX float32's distance from the reference's float64 evaluation of the same point may be {factor:g}x the "
            f"reference's own{where}, plus {ulps:g} eps of the leaf's magnitude{kink}. {why}")


_SUMS = ("Gradients and losses are sums whose terms can cancel (E03 late in a run: |g_d| 5.5 of sum |terms| 1976), "
         "so both frameworks can sit far from float64, by amounts that scale together. The factor 32 covers the "
         "summation orders: XLA's CPU loop reduction accumulates in long runs (error growing up to ~n·eps for "
         "same-signed terms) where torch's vectorised reduction splits the sum (~log n·eps), so on a leaf of "
         "same-signed terms JAX's error is a few times torch's, and a single draw sits in the error's tail")
_UPDATE = ("The update is elementwise arithmetic on identical inputs (torch's state and gradients), no sums: Adam's "
           "passes through ~15 roundings (two moments, two bias corrections, a square root, + eps, the divisions), each "
           "at most eps/2 of its size in either framework, so 32 eps of the leaf's magnitude; RMSprop and SGD fewer. "
           "And eps² of the parameter's magnitude: an update error below that could not show in the parameter within "
           "1/eps steps, and XLA's flushing of a subnormal second moment changes such updates (E15 at --seed 26, an "
           "update of 6e-34 on weights of ~0.1)")
_F64 = ("float64 has nothing more precise to be judged against: the reference is its own truth, and its rounding is "
        "estimated from float32's. The reference evaluates the same point rounded to float32 in float32 and in float64; "
        "its float32 error times eps64/eps32 (rounding is linear in the unit roundoff, and the point's cancellation is "
        "the same in both precisions) stands for the reference's own float64 error: |jax - ref| may be 32x that (its "
        "largest within 8 sampled steps either side) plus 8 eps of the leaf's magnitude.")
_F64_TREE = (" That estimate assumes both precisions run the same algorithm; torch's float64 and float32 reductions "
             "do not always (E04's grad c late in a run: torch float64 is 9 eps of its 698 sum |terms| from the exact "
             "value, its float32 far closer than that scaled). So the bound also admits rtol of the tree's magnitude "
             "(the gradient tree's largest value at that step): a float64 sum of n terms errs by at most ~n eps of "
             "their magnitudes, and 1e-12 is that for n ~ 4500 terms of the tree's size. The two are added.")
_OWN = (". Plus twice JAX's own float32 rounding, its distance from its own float64 evaluation of the same point: "
        "|jax32 - truth| <= |jax32 - jax64| + |jax64 - truth|, and a port bug is in both JAX evaluations, so it cancels "
        "from the first term and cannot widen the bound (E21 at --seed 47: conv1's weight gradient, a sum over "
        "thousands of terms, where XLA's order is ~40x less accurate than torch's)")
TABLE: dict[tuple[str, str, str], Tolerance] = {
    ("float32", "same_point", "cpu"): Tolerance(
        0.0, 0.0, _truth(32, 8, 8, _SUMS) + _OWN, factor=32.0, judge="truth", window=8, ulps=8.0, own=2.0),
    ("float32", "update", "cpu"): Tolerance(
        0.0, 0.0, _truth(4, 8, 32, _UPDATE, kinks=False), factor=4.0, judge="truth", window=8, ulps=32.0),
    ("float32", "values", "cpu"): Tolerance(
        0.0, 0.0, _truth(32, 0, 8, "A demonstration's values are a few operations each, "
                                "or sums of products (a layer's output, a gradient): " + _SUMS + _OWN),
        factor=32.0, judge="truth", ulps=8.0, own=2.0),
    ("float32", "teacher_forced", "cpu"): Tolerance(
        0.0, 0.0, "one optimizer step from torch's state with torch's gradients: identical inputs, so each element "
        "differs only by the rounding of the terms it is made of, each at most its old or new value (a parameter's: "
        "or its step times its buffer's cancellation, harness.update_terms): Adam's chain "
        "(m, v, their corrections, sqrt, + eps, division, lr, p - u) rounds ~8 times in each framework, so 16 eps "
        "of those terms (+ the smallest normal number: XLA's CPU flushes subnormals to zero)",
        judge="terms", ulps=16.0),
    ("float32", "step", "cpu"): Tolerance(
        0.0, 0.0, _truth(32, 8, 8, "One whole step (forward, backward, update) from torch's parameters: p - lr*g, "
                         "where g's float32 error (same_point) enters times lr; early in a run lr*g is a sizeable part "
                         "of p and that error shows. " + _SUMS),
        factor=32.0, judge="truth", window=8, ulps=8.0),
    ("float32", "step_state", "cpu"): Tolerance(
        1e-6, 0.0, "one whole step where the state holds more than the parameters (buffers the forward pass moves, "
        "E20's BatchNorm statistics), so the reference has no float64 one-step truth for it: 1e-6 of the tree's "
        "magnitude, ~8 eps of its largest value"),
    ("float32", "buffers", "cpu"): Tolerance(
        1e-5, 0.0, "an optimizer buffer accumulates gradients, so its difference is a gradient's: relative to the "
        "buffer kind's largest magnitude, as the float32 gradients of a tree differ where their terms cancel (a few "
        "hundred eps of the tree's magnitude), with the reference's float32 drift where a regime has one", factor=4.0),
    ("float32", "free_running", "cpu"): Tolerance(
        1e-5, 0.0,
        "per-step rounding accumulates over the run; a run whose rounding the dynamics amplify parts, and is "
        "decided by shadowing (the reference's loss, gradients and update at JAX's own states), not by this bound"),
    ("float32", "float64_drift", "cpu"): Tolerance(
        1e-6, 0.0, "JAX float32's drift from a float64 run may be at most 4x torch float32's own drift (+1e-6 relative)", factor=4.0
    ),
    # float64: the same algorithms at eps 2.2e-16; float32's relative figures scaled by ~2e-9, with room
    ("float64", "same_point", "cpu"): Tolerance(1e-12, 0.0, _F64 + _F64_TREE + " " + _SUMS, factor=32.0, judge="truth",
                                                window=8, ulps=8.0),
    ("float64", "teacher_forced", "cpu"): Tolerance(
        0.0, 0.0, "one float64 optimizer step from identical inputs: 16 eps of each element's terms, as float32, "
        "times 1024: torch forms Adam's bias corrections 1 - beta**t as float64 differences, which lose up to "
        "log2(1/(1 - beta2)) bits at small t (10 at the default beta2 = 0.999: 1.4e-14 relative at t = 2), where "
        "jaxport.optim's expm1 form loses none; in float32 both round far above that", judge="terms", ulps=16.0 * 1024),
    ("float64", "step_state", "cpu"): Tolerance(1e-14, 0.0, "one float64 step where the state holds more than the "
                                                "parameters: ~1 ulp of the largest value (eps 2.2e-16), with room"),
    ("float64", "step", "cpu"): Tolerance(1e-14, 0.0, "one float64 step from the same parameters: ~1 ulp of the largest "
                                          "parameter (eps 2.2e-16), with room"),
    ("float64", "buffers", "cpu"): Tolerance(1e-12, 0.0, "an optimizer buffer accumulates gradients: float64 "
                                             "gradients' relative gaps (as same_point)"),
    ("float64", "free_running", "cpu"): Tolerance(1e-12, 0.0, "float64 runs: rounding accumulates over the run from "
                                                  "eps 2.2e-16 a step; a run that parts is decided by shadowing"),
    ("float64", "values", "cpu"): Tolerance(1e-13, 0.0, _F64 + _F64_TREE + " " + _SUMS, factor=32.0, judge="truth", ulps=8.0),
    # for tests that compare a few operations directly, with no truth at hand
    ("float32", "direct", "cpu"): Tolerance(1e-6, 0.0, "a few float32 operations in another order: ~10 eps (1.2e-7 each)"),
    ("float64", "direct", "cpu"): Tolerance(1e-13, 0.0, "a few float64 operations in another order: ~500 eps (2.2e-16 each)"),
}
# GPU: not measured yet (issue 7). With JAX matmul precision 'highest' and torch TF32 off, the
# elementwise-and-reduce polynomial examples do the same float work as on CPU in another order, so
# the CPU entries are taken over as they are; a GPU run reports which precision setting it used.
TABLE.update({(d, r, "gpu"): t for (d, r, dev), t in list(TABLE.items()) if dev == "cpu"})

# One example's own entry, with its reason, where the general rule cannot hold for it. None is needed
# now: the chaotic runs (E06's RMSprop, E17's ReLU kinks, E08's 30000 momentum steps) are decided by
# shadowing along JAX's own trajectory, and gradients that cancel to rounding noise (E19's BatchNorms,
# E22's convolutions) are judged against the reference's own error at the same point.
OVERRIDES: dict[tuple[str, str, str, str], Tolerance] = {}
OVERRIDES.update({(e, d, r, "gpu"): t for (e, d, r, dev), t in list(OVERRIDES.items()) if dev == "cpu"})


def tolerance_text(t: dict) -> str:
    """A tolerance (``Tolerance.as_dict()``, as ``compare --json`` stores it) in a report's words."""
    judge = t.get("judge", "reference")
    if judge == "truth":
        env = f"±{t['window']}" if t.get("window") else ""
        return ((f"{t['factor']:g}×ref err{env} + " if t.get("factor") else "")
                + (f"{t['own']:g}×own + " if t.get("own") else "") + f"{t['ulps']:g} eps"
                + (f" + rtol {t['rtol']:.0e}" if t.get("rtol") else ""))
    if judge == "terms":
        return f"{t['ulps']:g} eps × terms"
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
