"""Parameters on disk: torch ``.pth`` state_dicts, ``.safetensors``, ``.npz`` and ``.json``, both ways.

A ``.pth`` is only ever read with ``torch.load(path, map_location="cpu", weights_only=True)``: torch's
restricted unpickler, which refuses any pickle that would import or call something other than
tensors and plain containers (a pickled ``nn.Module``, or a crafted file whose pickle would run
code), so reading an untrusted file runs nothing. ``.safetensors`` and ``.npz`` (``allow_pickle=False``)
hold raw arrays only. Every write goes to a temporary file beside the target and is renamed over
it once complete, so an existing file is only ever replaced by a whole one.

The neutral form in memory is a flat ``{name: numpy array}`` under torch's ``state_dict`` keys; a
``.pth`` written here is an ordinary state_dict that ``torch.load(weights_only=True)`` and
``model.load_state_dict(..., strict=True)`` accept.
"""

import json
import os
import re
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from jaxport.errors import UsageError

FORMATS = (".pth", ".pt", ".safetensors", ".npz", ".json")


def _suffix(path: Path, what: str) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise UsageError(f"{what} {path}: unsupported file type {suffix or '(none)'!r}; expected one of {', '.join(FORMATS)}")
    return suffix


def load(path: str | Path, *, what: str = "--init") -> dict[str, np.ndarray | object]:
    """Read named values from a checkpoint, by extension. Nothing in the file is executed.

    Returns ``{name: value}`` (NumPy arrays, or numbers/nested lists for ``.json``); names and shapes
    are the caller's to check (:func:`jaxport.params.validate`).

    Raises:
        UsageError: the file is missing, truncated, of another format than its extension says,
            not a flat name → tensor mapping, or (``.pth``) would need to run code to load.
    """
    path = Path(path)
    suffix = _suffix(path, what)
    if not path.exists():
        raise UsageError(f"{what} {path}: no such file")
    try:
        if suffix == ".json":
            raw = json.loads(path.read_text())
        elif suffix == ".npz":
            with np.load(path, allow_pickle=False) as npz:
                raw = {k: npz[k] for k in npz.files}
        elif suffix == ".safetensors":
            from safetensors.numpy import load_file

            raw = load_file(str(path))
        else:
            raw = _load_pth(path, what)
    except UsageError:
        raise
    except Exception as e:  # each library has its own errors for truncated or mis-typed files
        raise UsageError(f"{what} {path}: cannot read it as {suffix} ({type(e).__name__}: {_first_line(e)})") from None
    if not isinstance(raw, Mapping) or not all(isinstance(k, str) for k in raw):
        raise UsageError(f"{what} {path}: expected a mapping of parameter name → values, got {type(raw).__name__}")
    return dict(raw)


def _load_pth(path: Path, what: str) -> dict[str, np.ndarray]:
    import pickle

    import torch

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about pickle protocols before refusing
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        found = re.search(r"Unsupported (global: GLOBAL \S+|operand \d+|class \S+)", str(e))
        raise UsageError(
            f"{what} {path}: refused: torch.load(weights_only=True) will not unpickle it"
            f"{f' ({found.group(0)})' if found else ''}: it is not a plain state_dict of tensors (a pickled "
            "module, code, or not a torch file at all)"
        ) from None
    if not isinstance(obj, Mapping):
        raise UsageError(f"{what} {path}: expected a state_dict (parameter name → tensor), got {type(obj).__name__}")
    out = {}
    for k, v in obj.items():
        if not isinstance(v, torch.Tensor):
            raise UsageError(f"{what} {path}: entry {k!r} is a {type(v).__name__}, expected a tensor")
        if v.dtype not in (torch.float32, torch.float64, torch.float16, torch.int64, torch.int32, torch.bool):
            raise UsageError(f"{what} {path}: entry {k!r} has dtype {v.dtype}, which NumPy cannot hold exactly")
        out[k] = v.detach().cpu().numpy().copy()
    return out


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


def save(values: Mapping[str, object], path: str | Path, *, what: str = "--save") -> Path:
    """Write ``{name: array}`` to ``path`` by extension, atomically (temporary file, then rename).

    ``.pth``: an ordinary torch state_dict of tensors (``torch.save``); ``.safetensors``; ``.npz``;
    ``.json`` (name → number or nested list). Arrays are written as they are, bit for bit.

    Raises:
        UsageError: unsupported extension, or the directory does not exist.
    """
    path = Path(path)
    suffix = check_writable(path, what=what)
    arrays = {k: np.asarray(v).copy(order="C") for k, v in values.items()}  # (ascontiguousarray makes 0-d 1-d)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        if suffix == ".json":
            Path(tmp).write_text(json.dumps({k: (a.item() if a.ndim == 0 else a.tolist()) for k, a in arrays.items()}, indent=1))
        elif suffix == ".npz":
            with open(tmp, "wb") as f:
                np.savez(f, **arrays)
        elif suffix == ".safetensors":
            from safetensors.numpy import save_file

            save_file(arrays, tmp)
        else:
            import torch

            torch.save({k: torch.from_numpy(a.copy()) for k, a in arrays.items()}, tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def check_writable(path: str | Path, *, what: str = "--save") -> str:
    """Fail early (before any training) on a path :func:`save` could not write; returns its suffix."""
    path = Path(path)
    suffix = _suffix(path, what)
    if not path.parent.is_dir():
        raise UsageError(f"{what} {path}: directory {path.parent} does not exist")
    if path.is_dir():
        raise UsageError(f"{what} {path}: is a directory")
    return suffix


__all__ = ["FORMATS", "check_writable", "load", "save"]
