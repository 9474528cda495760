"""Training checkpoints across frameworks (issue 14, item 4): ``jaxport run EXX --save ck.pth
--save-optimizer`` writes torch's usual ``{"model", "optimizer"}``; ``--init ck.pth`` resumes either
framework from it. 50 steps, a checkpoint, 50 more in the other framework equal 100 steps in one,
within the tolerance table's free-running bound; torch resumed from its own checkpoint is bit-exact."""

import numpy as np
import pytest
import torch

from jaxport import tolerances
from jaxport.cli import main


def _run(capsys, *argv):
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def _close(ours, theirs, example, dtype):
    tol = tolerances.tolerance(example, dtype, "free_running", "cpu")
    for k in theirs.files:
        diff, scale = np.max(np.abs(ours[k] - theirs[k])), np.max(np.abs(theirs[k]))
        assert diff <= tol.rtol * scale + tol.atol, (k, diff, scale, tol.rtol)


@pytest.mark.parametrize("example, dtype", [("E06", "float64"), ("E06", "float32"), ("E13", "float64")])
def test_a_checkpoint_resumes_in_the_other_framework(capsys, tmp_path, example, dtype):
    """E06: RMSprop (square_avg, step); E13: SGD (momentum buffers, no step)."""
    run = ("run", example, "--dtype", dtype, "--steps")
    _run(capsys, *run, 5, "--framework", "torch", "--save", tmp_path / "t.pth", "--save-optimizer")
    ck = torch.load(tmp_path / "t.pth", weights_only=True)
    assert set(ck) == {"model", "optimizer"} and {"state", "param_groups"} <= set(ck["optimizer"])
    # torch 5 + JAX 5 == torch 10; JAX 5 + torch 5 == JAX 10; torch 5 + torch 5 == torch 10, bit for bit
    _run(capsys, *run, 5, "--init", tmp_path / "t.pth", "--save", tmp_path / "tj.npz")
    _run(capsys, *run, 5, "--init", tmp_path / "t.pth", "--framework", "torch", "--save", tmp_path / "tt.npz")
    _run(capsys, *run, 10, "--framework", "torch", "--save", tmp_path / "t10.npz")
    _run(capsys, *run, 5, "--save", tmp_path / "j.pth", "--save-optimizer")
    _run(capsys, *run, 5, "--init", tmp_path / "j.pth", "--framework", "torch", "--save", tmp_path / "jt.npz")
    _run(capsys, *run, 10, "--save", tmp_path / "j10.npz")
    t10, j10 = np.load(tmp_path / "t10.npz"), np.load(tmp_path / "j10.npz")
    _close(np.load(tmp_path / "tj.npz"), t10, example, dtype)
    _close(np.load(tmp_path / "jt.npz"), j10, example, dtype)
    tt = np.load(tmp_path / "tt.npz")
    assert all(np.array_equal(tt[k], t10[k]) for k in t10.files)


def test_a_resumed_run_really_starts_from_the_state(capsys, tmp_path):
    """The optimizer state matters: resuming with the state differs from starting the same weights afresh."""
    _run(capsys, "run", "E06", "--dtype", "float64", "--steps", "5", "--framework", "torch", "--save", tmp_path / "t.pth",
         "--save-optimizer")
    ck = torch.load(tmp_path / "t.pth", weights_only=True)
    torch.save(ck["model"], tmp_path / "model.pth")
    _run(capsys, "run", "E06", "--dtype", "float64", "--steps", "5", "--init", tmp_path / "t.pth", "--save", tmp_path / "a.npz")
    _run(capsys, "run", "E06", "--dtype", "float64", "--steps", "5", "--init", tmp_path / "model.pth", "--save", tmp_path / "b.npz")
    a, b = np.load(tmp_path / "a.npz"), np.load(tmp_path / "b.npz")
    assert not all(np.array_equal(a[k], b[k]) for k in a.files)


@pytest.mark.parametrize("argv, needle", [
    (["run", "E06", "--steps", "5", "--save-optimizer"], "--save-optimizer writes torch's training checkpoint"),
    (["run", "E06", "--steps", "5", "--save", "{tmp}/x.npz", "--save-optimizer"], "give --save PATH.pth"),
    (["run", "E03", "--steps", "5", "--save", "{tmp}/x.pth", "--save-optimizer"], "E03 polynomial_autograd has no torch.optim optimizer"),
    (["compare", "E06", "--steps", "5", "--init", "{tmp}/t.pth"], "holds an optimizer state too; compare starts both"),
    (["run", "E06", "--steps", "5", "--init", "{tmp}/t.pth", "--dtype", "float32"], "dtype"),
])
def test_checkpoint_misuse_is_one_line(capsys, tmp_path, argv, needle):
    _run(capsys, "run", "E06", "--dtype", "float64", "--steps", "3", "--framework", "torch", "--save", tmp_path / "t.pth",
         "--save-optimizer")
    capsys.readouterr()
    code = main([a.replace("{tmp}", str(tmp_path)) for a in argv])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and needle in err, err
