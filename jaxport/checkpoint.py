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
from typing import Any

import numpy as np

from jaxport.errors import UsageError

FORMATS = (".pth", ".pt", ".safetensors", ".npz", ".json")


def _suffix(path: Path, what: str) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise UsageError(f"{what} {path}: unsupported file type {suffix or '(none)'!r}; expected one of {', '.join(FORMATS)}")
    return suffix


def load(path: str | Path, *, what: str = "--init", shapes: Mapping[str, tuple[int, ...]] | None = None
         ) -> dict[str, np.ndarray | object]:
    """Read named values from a checkpoint, by extension. Nothing in the file is executed.

    Returns ``{name: value}`` (NumPy arrays, or numbers/nested lists for ``.json``); names and shapes
    are the caller's to check (:func:`jaxport.params.validate`). With ``shapes`` (the names and shapes
    expected), memory stays bounded by their size: ``.npz`` and ``.safetensors`` headers are checked
    against them before any array is read, and a ``.json`` or ``.pth`` far larger than they could take
    is refused unread.

    Raises:
        UsageError: the file is missing, truncated, of another format than its extension says,
            not a flat name → tensor mapping, (``.pth``) would need to run code to load, or (with
            ``shapes``) declares arrays other than those expected.
    """
    path = Path(path)
    suffix = _suffix(path, what)
    if not path.exists():
        raise UsageError(f"{what} {path}: no such file")
    if shapes is not None:
        _check_declared(path, suffix, shapes, what)
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


def _check_declared(path: Path, suffix: str, shapes: Mapping[str, tuple[int, ...]], what: str) -> None:
    """Before reading: the arrays an ``.npz``/``.safetensors`` header declares must be the expected
    names and shapes; a ``.json``/``.pth`` may be at most :func:`size_bound` bytes."""
    import zipfile

    declared: dict[str, tuple[int, ...]] = {}
    try:
        if suffix == ".npz":
            with zipfile.ZipFile(path) as z:
                for info in z.infolist():
                    name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
                    with z.open(info) as f:
                        version = np.lib.format.read_magic(f)
                        shape, _, _ = (np.lib.format.read_array_header_1_0(f) if version == (1, 0)
                                       else np.lib.format.read_array_header_2_0(f))
                    declared[name] = tuple(shape)
        elif suffix == ".safetensors":
            from safetensors import safe_open

            with safe_open(str(path), framework="numpy") as f:
                declared = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
        else:
            bound = size_bound(shapes)
            size = path.stat().st_size
            if size > bound:
                raise UsageError(f"{what} {path}: {size:,} bytes, more than the {bound:,} that "
                                 f"{sum(int(np.prod(s)) for s in shapes.values()):,} expected values could take")
            return
    except UsageError:
        raise
    except Exception as e:  # a header the format's reader refuses: read() would refuse it too, say so here
        raise UsageError(f"{what} {path}: cannot read it as {suffix} ({type(e).__name__}: {_first_line(e)})") from None
    for name, shape in declared.items():
        if name in shapes and shape != tuple(shapes[name]):
            raise UsageError(f"{what} {path}: parameter {name!r} has shape {list(shape)}, expected {list(shapes[name])}")
        if name not in shapes:
            expected = ", ".join(f"{n}{list(s)}" for n, s in shapes.items())
            raise UsageError(f"{what} {path}: unknown parameter {name!r}; expected exactly: {expected}")


def size_bound(shapes: Mapping[str, tuple[int, ...]]) -> int:
    """The most bytes a ``.json`` or ``.pth`` of these parameters can reasonably take: 32 per value
    (a float64 in JSON's text is at most 24 characters with its separator; 8 in a ``.pth``) and 1 MiB
    for names, headers and formatting."""
    return 32 * sum(int(np.prod(s)) for s in shapes.values()) + 2**20


def _load_pth(path: Path, what: str) -> dict[str, np.ndarray]:
    return _state_dict(_torch_load(path, what), path, what)


def _torch_load(path: Path, what: str) -> Any:
    """``torch.load(path, weights_only=True)``: a pickle that would run code is one line, refused."""
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
    return obj


def _state_dict(obj: Any, path: Path, what: str) -> dict[str, np.ndarray]:
    """A loaded state_dict as NumPy arrays, each entry checked (a tensor NumPy can hold exactly)."""
    import torch

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

    def write(tmp: str) -> None:
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

    return _atomically(path, write)


def _atomically(path: Path, write: Any) -> Path:
    """``write(tmp)`` into a temporary file beside ``path`` (the mode ``path`` has or would get), synced,
    then renamed over ``path``: a reader sees the old file or the new one, never half of one."""
    fd, tmp = tempfile.mkstemp(prefix=".jaxport-", suffix=".tmp", dir=path.parent)  # a short name: any name fits
    os.close(fd)
    try:
        os.chmod(tmp, file_mode(path))
        write(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def file_mode(path: Path) -> int:
    """The mode the written file gets: the replaced file's, else what ``open()`` would give (0666 less the umask)."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def check_writable(path: str | Path, *, what: str = "--save") -> str:
    """Fail early (before any training) on a path :func:`save` could not write; returns its suffix."""
    path = Path(path)
    if not str(path):
        raise UsageError(f"{what}: expected a file path, got an empty string")
    suffix = _suffix(path, what)
    writable(path, what=what)
    return suffix


def writable(path: Path, *, what: str) -> None:
    """Raise a UsageError unless a file can be written at ``path`` and renamed over it: creates (and
    removes) the temporary file a write makes beside it, so a folder without write permission, a
    read-only file system or a name too long is found before a run, not after it."""
    try:
        if not path.parent.is_dir():
            raise UsageError(f"{what} {path}: directory {path.parent} does not exist")
        if path.is_dir():
            raise UsageError(f"{what} {path}: is a directory")
        if path.exists() and not os.access(path, os.W_OK):  # read-only: the user's, not ours to replace
            raise UsageError(f"{what} {path}: the file is read-only; expected a writable file or a new name")
        if not path.exists():
            _check_name(path)
        fd, tmp = tempfile.mkstemp(prefix=".jaxport-", suffix=".tmp", dir=path.parent)
        os.close(fd)
        os.unlink(tmp)
    except OSError as e:
        raise UsageError(f"{what} {path}: cannot write there ({e.strerror or e})") from None


def _check_name(path: Path) -> None:
    """Raise the OSError creating ``path`` would (a name too long for the file system), creating nothing."""
    limit = os.pathconf(path.parent, "PC_NAME_MAX")
    if len(os.fsencode(path.name)) > limit:
        import errno

        raise OSError(errno.ENAMETOOLONG, f"file name too long ({len(os.fsencode(path.name))} bytes, at most {limit})")


__all__ = ["FORMATS", "check_writable", "file_mode", "load", "save", "writable"]


TRAINING_KEYS = ("model", "optimizer")  # torch's usual checkpoint: {"model": state_dict, "optimizer": its state_dict}


def load_training(path: str | Path, *, what: str = "--init", shapes: Mapping[str, tuple[int, ...]] | None = None
                  ) -> tuple[dict[str, np.ndarray | object], dict | None]:
    """The parameters and, where the file has one, the optimizer's ``state_dict()``.

    A ``.pth`` holding ``{"model": ..., "optimizer": ...}`` (torch's usual training checkpoint, read
    with ``weights_only=True`` like any ``.pth``) gives both; any other file :func:`load`'s values and
    ``None``. The optimizer's state is returned as torch keeps it (tensors), for
    :func:`jaxport.optim_state.from_torch` or ``optimizer.load_state_dict``.
    """
    path = Path(path)
    if _suffix(path, what) != ".pth" or not path.exists():
        return load(path, what=what, shapes=shapes), None
    if shapes is not None and path.stat().st_size > 4 * size_bound(shapes):  # model + up to 3 buffers a parameter
        raise UsageError(f"{what} {path}: {path.stat().st_size} bytes, more than a checkpoint of this example's "
                         f"parameters and optimizer state could take")
    try:
        obj = _torch_load(path, what)
    except UsageError:
        raise
    except Exception as e:  # a truncated or mistyped file: torch's own errors, as load() reports them
        raise UsageError(f"{what} {path}: cannot read it as .pth ({type(e).__name__}: {_first_line(e)})") from None
    if isinstance(obj, Mapping) and set(obj) == set(TRAINING_KEYS):
        opt = obj["optimizer"]
        if not isinstance(opt, Mapping) or not {"state", "param_groups"} <= set(opt):
            raise UsageError(f"{what} {path}: its 'optimizer' is not an optimizer's state_dict (expected 'state' "
                             "and 'param_groups')")
        return _state_dict(obj["model"], path, f"{what} (model)"), dict(opt)
    if isinstance(obj, Mapping) and "model" in obj and "optimizer" in obj:
        extra = sorted(set(obj) - set(TRAINING_KEYS))
        raise UsageError(f"{what} {path}: a checkpoint with 'model' and 'optimizer' and also {extra}; expected exactly "
                         "those two (or a plain state_dict)")
    return _state_dict(obj, path, what), None


def save_training(model: Mapping[str, object], optimizer: Mapping[str, Any], path: str | Path, *,
                  what: str = "--save") -> Path:
    """Write torch's usual training checkpoint ``{"model": state_dict, "optimizer": state_dict}`` to a
    ``.pth``, atomically: ``torch.load(path, weights_only=True)`` reads it, ``model.load_state_dict`` and
    ``optimizer.load_state_dict`` take its two parts."""
    import torch

    path = Path(path)
    if check_writable(path, what=what) != ".pth":
        raise UsageError(f"{what} {path}: a model-and-optimizer checkpoint is a .pth file")
    arrays = {k: torch.from_numpy(np.asarray(v).copy(order="C")) for k, v in model.items()}
    return _atomically(path, lambda tmp: torch.save({"model": arrays, "optimizer": dict(optimizer)}, tmp))
