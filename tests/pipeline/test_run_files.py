"""Run files survive a kill -9 mid-write; bad statistics and weights are refused by name."""

import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from remodiffuse.errors import InputError
from remodiffuse.pipeline import load_statistics, save_statistics

# write(version) writes a 64 MB file in the run's way (safetensors and Lightning write atomically
# themselves; the statistics are written by remodiffuse.files)
WRITERS = {
    "model.safetensors": """
        from remodiffuse.models import ModelConfig
        from remodiffuse.pipeline import save_pretrained
        def write(version):
            state = {"w": torch.full((16, 1 << 20), float(version))}
            save_pretrained(state, ModelConfig(input_feats=4), directory)
    """,
    "std.npy": """
        import numpy as np
        from remodiffuse.pipeline import save_statistics
        def write(version):
            values = np.full(16 << 20, version + 1, dtype=np.float32)  # 64 MB each
            save_statistics(directory, values, values)
    """,
    "last.ckpt": """
        from lightning.pytorch.plugins.io import TorchCheckpointIO
        def write(version):
            checkpoint = {"state_dict": {"w": torch.full((16, 1 << 20), float(version))}}
            TorchCheckpointIO().save_checkpoint(checkpoint, directory / "last.ckpt")
    """,
}
# Version 0 is written whole; then a file-size limit of 32 MB kills the process (SIGXFSZ, back to
# its default action, which Python ignores) in the middle of writing version 1: like kill -9 (no
# cleanup runs) at exactly the worst moment, every time.
KILLED_MID_WRITE = """
write(0)
signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
resource.setrlimit(resource.RLIMIT_FSIZE, (32 << 20, resource.RLIM_INFINITY))
write(1)
"""


def _read_version(directory, name) -> float:
    if name == "model.safetensors":
        weights = load_file(directory / name)["w"]
    elif name == "std.npy":
        weights = torch.from_numpy(load_statistics(directory)[1] - 1)
    else:
        weights = torch.load(directory / name, weights_only=True)["state_dict"]["w"]
    assert bool((weights == weights.flatten()[0]).all()), "a mix of two versions"
    return float(weights.flatten()[0])


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_killed_while_writing_keeps_the_previous_version(tmp_path, name):
    script = "\n".join(
        [
            "import resource, signal, sys, torch",
            "from pathlib import Path",
            "directory = Path(sys.argv[1])",
            textwrap.dedent(WRITERS[name]),
            KILLED_MID_WRITE,
        ]
    )
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True)
    assert result.returncode == -signal.SIGXFSZ, result.stderr.decode()[-2000:]
    assert _read_version(tmp_path, name) == 0.0


def test_statistics_must_be_finite_and_std_positive(tmp_path):
    save_statistics(tmp_path, np.zeros(4), np.ones(4))
    assert load_statistics(tmp_path)[1].tolist() == [1, 1, 1, 1]
    for mean, std, message in [
        (np.zeros(4), np.array([1.0, 0.0, 1.0, 1.0]), "channel 1"),
        (np.array([0.0, np.nan, 0.0, 0.0]), np.ones(4), "non-finite"),
        (np.zeros(4), np.ones(3), "shape"),
    ]:
        save_statistics(tmp_path, mean, std)
        with pytest.raises(InputError, match=message):
            load_statistics(tmp_path)
