"""E09: checkpoints — .pth only through weights_only, neutral formats, bitwise round trips, safe failures."""

import json
import os
import pickle

import numpy as np
import pytest
import torch

from jaxport import checkpoint
from jaxport.cli import main
from jaxport.errors import UsageError
from jaxport.examples.e09_state_dict_io import port as e09

from _helpers import assert_parity

PARAMS = {"0.weight": np.array([[0.25, -1.5, 3.0]], np.float32), "0.bias": np.array([0.125], np.float32),
          "scalar": np.array(np.pi, np.float64)}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parity(dtype, device):
    c = assert_parity(e09.EXAMPLE, dtype, device)
    assert c.regimes[0].max_abs < 1e-5


@pytest.mark.parametrize("suffix", [".pth", ".pt", ".safetensors", ".npz", ".json"])
def test_round_trip_is_bitwise(tmp_path, suffix):
    path = checkpoint.save(PARAMS, tmp_path / f"m{suffix}")
    back = checkpoint.load(path)
    assert set(back) == set(PARAMS)
    for k, v in PARAMS.items():
        got = np.asarray(back[k], dtype=v.dtype)  # .json holds numbers: its dtype is the caller's
        assert got.shape == v.shape and got.tobytes() == v.tobytes(), k
        if suffix != ".json":
            assert np.asarray(back[k]).dtype == v.dtype
    assert [p.name for p in tmp_path.iterdir()] == [f"m{suffix}"]  # no temporary file left behind


def test_pth_is_a_state_dict_torch_loads_strictly(tmp_path):
    params = {k: v for k, v in PARAMS.items() if k != "scalar"}
    path = checkpoint.save(params, tmp_path / "model.pth")
    model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
    model.load_state_dict(torch.load(path, weights_only=True), strict=True)
    assert torch.equal(model[0].weight, torch.from_numpy(params["0.weight"]))


def _write_code_running_pickle(path, marker):
    class Payload:
        def __reduce__(self):  # unpickling this would create `marker`
            return (open, (str(marker), "w"))

    for protocol in (2, 4):
        path.with_suffix(f".p{protocol}.pth").write_bytes(pickle.dumps({"a": Payload()}, protocol=protocol))
    return [path.with_suffix(f".p{protocol}.pth") for protocol in (2, 4)]


def test_code_running_pickle_is_refused_and_nothing_runs(tmp_path, capsys):
    marker = tmp_path / "pwned"
    for evil in _write_code_running_pickle(tmp_path / "evil", marker):
        with pytest.raises(UsageError, match="refused: torch.load\\(weights_only=True\\) will not unpickle it"):
            checkpoint.load(evil)
        assert main(["run", "E03", "--init", str(evil)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "refused" in err and "Traceback" not in err
    assert not marker.exists()


def test_pickled_module_is_refused(tmp_path):
    path = tmp_path / "module.pth"
    torch.save(torch.nn.Linear(2, 2), path)
    with pytest.raises(UsageError, match="GLOBAL torch.nn.modules.linear.Linear"):
        checkpoint.load(path)


@pytest.mark.parametrize(
    "name, make, needle",
    [
        ("trunc.pth", lambda p: p.write_bytes(_bytes_of(".pth")[:100]), "cannot read it as .pth"),
        ("trunc.safetensors", lambda p: p.write_bytes(_bytes_of(".safetensors")[:30]), "cannot read it as .safetensors"),
        ("trunc.npz", lambda p: p.write_bytes(_bytes_of(".npz")[:50]), "cannot read it as .npz"),
        ("swapped.pth", lambda p: p.write_bytes(_bytes_of(".safetensors")), "not a torch file at all"),
        ("text.safetensors", lambda p: p.write_text(json.dumps({"a": 1})), "cannot read it as .safetensors"),
        ("list.pth", lambda p: torch.save([1, 2], p), "expected a state_dict"),
        ("int.pth", lambda p: torch.save({"a": 3}, p), "entry 'a' is a int, expected a tensor"),
    ],
)
def test_truncated_or_mistyped_files_are_one_clear_error(tmp_path, capsys, name, make, needle):
    path = tmp_path / name
    make(path)
    assert main(["run", "E03", "--init", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and needle in err, err


def _bytes_of(suffix: str, _cache={}) -> bytes:
    if suffix not in _cache:
        import tempfile
        from pathlib import Path

        with tempfile.TemporaryDirectory() as tmp:
            _cache[suffix] = checkpoint.save(PARAMS, Path(tmp) / f"m{suffix}").read_bytes()
    return _cache[suffix]


def test_save_then_init_round_trips_through_torch(tmp_path, capsys):
    out = tmp_path / "e05.pth"
    assert main(["run", "E05", "--steps", "50", "--save", str(out), "--json"]) == 0
    trained = json.loads(capsys.readouterr().out)["params"]
    sd = torch.load(out, weights_only=True)
    model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
    model.load_state_dict(sd, strict=True)
    np.testing.assert_array_equal(model[0].weight.detach().numpy(), np.asarray(trained["0.weight"], np.float32))
    for suffix in (".safetensors", ".npz", ".json"):  # the same values through every format, as --init
        other = tmp_path / f"e05{suffix}"
        checkpoint.save({k: v.numpy() for k, v in sd.items()}, other)
        assert main(["run", "E05", "--init", str(other), "--steps", "1", "--json"]) == 0
        first = json.loads(capsys.readouterr().out)
        assert main(["run", "E05", "--init", str(out), "--steps", "1", "--json"]) == 0
        assert first["history"] == json.loads(capsys.readouterr().out)["history"]


def test_save_is_atomic_and_checked_before_training(tmp_path, capsys, monkeypatch):
    target = tmp_path / "keep.pth"
    target.write_bytes(b"the user's file")

    def broken_save(obj, f, *a, **k):
        with open(f, "wb") as fh:
            fh.write(b"half a fi")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError):
        checkpoint.save(PARAMS, target)
    assert target.read_bytes() == b"the user's file"  # untouched: only a complete file replaces it
    assert sorted(os.listdir(tmp_path)) == ["keep.pth"]  # and the temporary file is gone
    for bad, needle in [(tmp_path / "nodir" / "x.pth", "does not exist"), (tmp_path / "x.bin", "unsupported file type")]:
        assert main(["run", "E08", "--save", str(bad)]) == 2  # E08 would take seconds: it must fail first
        assert needle in capsys.readouterr().err
    assert main(["run", "E12", "--save", str(tmp_path / "x.pth")]) == 2
    assert "trains nothing" in capsys.readouterr().err
