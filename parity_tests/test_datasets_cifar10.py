"""CIFAR-10's binary reader: records in torch's layout, the blitz's normalisation bit for bit, and one
clear line (exit 2, no traceback) for a missing, truncated or out-of-range file, through the CLI."""

from pathlib import Path

import numpy as np
import pytest
import torch

from jaxport.cli import main
from jaxport.datasets import DatasetError, cifar10

PER_FILE = 4  # records per file in these small directories: 20 training images, 5 mini-batches of 4


def write_cifar(directory: Path, per_file: int = PER_FILE, seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """A small, valid CIFAR-10 binary directory: every file, ``per_file`` random records each."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    out = {}
    for name in (*cifar10.TRAIN_FILES, cifar10.TEST_FILE):
        labels = rng.integers(0, 10, per_file).astype(np.uint8)
        pixels = rng.integers(0, 256, (per_file, 3072)).astype(np.uint8)
        np.concatenate([labels[:, None], pixels], axis=1).tofile(directory / name)
        out[name] = (pixels.reshape(-1, 3, 32, 32), labels)
    return out


def test_records_are_read_in_torch_layout(tmp_path):
    """1 label byte, then the R, G and B planes of 32×32, row-major: straight to (3, 32, 32); pixel / 255."""
    written = write_cifar(tmp_path)
    record = np.zeros(cifar10.RECORD, np.uint8)
    record[0] = 7
    record[1:1025], record[1025:2049], record[2049:] = 10, 20, 30  # R, G, B planes
    record[1 + 32 * 2 + 5] = 255  # R plane, row 2, column 5
    record.tofile(tmp_path / "data_batch_1.bin")
    ds = cifar10.load(tmp_path)
    assert ds.images.shape == (5 * PER_FILE - PER_FILE + 1, 3, 32, 32) and ds.images.dtype == np.float32
    assert ds.labels.dtype == np.int64 and ds.labels[0] == 7
    np.testing.assert_array_equal(ds.images[0, :, 0, 0], np.float32([10, 20, 30]) / np.float32(255))
    assert ds.images[0, 0, 2, 5] == 1.0 and ds.images[0, 0, 5, 2] == np.float32(10) / np.float32(255)
    pixels, labels = written["data_batch_2.bin"]  # the next file follows, in order
    np.testing.assert_array_equal(ds.images[1:1 + PER_FILE], pixels.astype(np.float32) / np.float32(255))
    np.testing.assert_array_equal(ds.labels[1:1 + PER_FILE], labels)
    test = cifar10.load(tmp_path, split="test")
    np.testing.assert_array_equal(test.labels, written["test_batch.bin"][1])
    assert ds.classes == cifar10.CLASSES


def test_the_tarballs_directory_and_meta_names(tmp_path):
    """``cifar-10-batches-bin/`` or the directory holding it; ``batches.meta.txt`` names the classes."""
    inner = tmp_path / cifar10.SUBDIR
    write_cifar(inner)
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    (inner / cifar10.META_FILE).write_text("\n".join(names) + "\n\n")
    assert cifar10.load(tmp_path).classes == tuple(names)
    assert len(cifar10.load(inner)) == 5 * PER_FILE
    (inner / cifar10.META_FILE).write_text("plane\ncar\n")
    with pytest.raises(DatasetError, match=r"batches\.meta\.txt: 2 class names: expected 10"):
        cifar10.load(tmp_path)


def test_normalize_is_the_blitz_transform_bit_for_bit():
    """ToTensor() then Normalize((0.5,)*3, (0.5,)*3), as torch computes it (float32 div, sub_, div_)."""
    u8 = np.arange(256, dtype=np.uint8).repeat(12).reshape(1, 3, 32, 32)
    ours = cifar10.normalize(u8.astype(np.float32) / np.float32(255))
    t = torch.from_numpy(u8).float().div(255)  # ToTensor()
    mean = torch.tensor([0.5, 0.5, 0.5]).view(-1, 1, 1)
    std = torch.tensor([0.5, 0.5, 0.5]).view(-1, 1, 1)
    t = t.sub_(mean).div_(std)  # torchvision's F.normalize
    np.testing.assert_array_equal(ours, t.numpy())
    assert ours.min() == -1.0 and ours.max() == 1.0


def _truncate(d: Path) -> str:
    path = d / "data_batch_2.bin"
    path.write_bytes(path.read_bytes()[:-100])
    return r"data_batch_2\.bin: 12192 bytes is not a whole number of 3073-byte records"


def _bad_label(d: Path) -> str:
    path = d / "data_batch_4.bin"
    raw = bytearray(path.read_bytes())
    raw[2 * cifar10.RECORD] = 12  # the third record's label byte
    path.write_bytes(bytes(raw))
    return r"data_batch_4\.bin: label 12 at index 2 is out of range: expected 0\.\.9"


def _missing(d: Path) -> str:
    (d / "data_batch_3.bin").unlink()
    return r"data_batch_3\.bin: missing: expected CIFAR-10 binary file data_batch_3\.bin"


def _empty(d: Path) -> str:
    (d / "data_batch_5.bin").write_bytes(b"")
    return r"data_batch_5\.bin: 0 bytes is not a whole number"


@pytest.mark.parametrize("corrupt", [_truncate, _bad_label, _missing, _empty])
def test_a_corrupt_directory_is_one_line_and_exit_2(tmp_path, capsys, corrupt):
    write_cifar(tmp_path)
    expected = corrupt(tmp_path)
    with pytest.raises(DatasetError, match=expected):
        cifar10.load(tmp_path)
    capsys.readouterr()
    assert main(["run", "E21", "--data-dir", str(tmp_path), "--steps", "2"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("jaxport: error: ") and "Traceback" not in captured.err
    assert str(tmp_path) in lines[0]
    assert captured.out == ""


def test_not_a_directory(tmp_path, capsys):
    assert main(["compare", "E21", "--data-dir", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nowhere: not a directory: expected CIFAR-10's binary version" in err[0]


def test_the_cli_trains_on_a_valid_directory(tmp_path, capsys):
    """20 images: 5 mini-batches an epoch; 7 steps run into the second epoch. Both frameworks read the same files."""
    write_cifar(tmp_path / cifar10.SUBDIR)
    for fw in ("jax", "torch"):
        assert main(["run", "E21", "--data-dir", str(tmp_path), "--steps", "7", "--framework", fw, "--dtype", "float64"]) == 0
        captured = capsys.readouterr()
        assert captured.out.startswith("Data: CIFAR-10 (binary version), train")  # both frameworks say what they read
        assert captured.out.strip().splitlines()[-1] == "Finished Training"
    assert main(["compare", "E21", "--data-dir", str(tmp_path), "--steps", "7", "--dtype", "float64"]) == 0


def test_an_epoch_the_print_period_does_not_divide_is_one_clear_error(tmp_path, capsys):
    """20 images: 5 mini-batches an epoch. 60 steps would print at global step 49 in the loop but at
    no mini-batch of an epoch in the blitz: refused with one line, before anything runs."""
    write_cifar(tmp_path / cifar10.SUBDIR)
    assert main(["run", "E21", "--data-dir", str(tmp_path), "--steps", "60"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "5 mini-batches of 4 an epoch, expected a multiple of the print period 50" in err
