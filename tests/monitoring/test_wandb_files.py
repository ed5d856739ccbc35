"""The W&B logger's online/offline choice and the offline-run reader."""

import pytest

from remodiffuse.errors import InputError
from remodiffuse.monitoring import api_key_configured, offline_run_dir, read_history, wandb_logger


@pytest.fixture
def no_key(monkeypatch, tmp_path):
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.netrc
    return tmp_path


def test_offline_unless_a_key_is_configured(no_key, monkeypatch):
    assert not api_key_configured()
    assert wandb_logger(save_dir=str(no_key))._offline
    (no_key / ".netrc").write_text("machine api.wandb.ai\n  login user\n  password k3y\n")
    (no_key / ".netrc").chmod(0o600)
    assert api_key_configured() and not wandb_logger(save_dir=str(no_key))._offline
    (no_key / ".netrc").unlink()
    monkeypatch.setenv("WANDB_API_KEY", "k3y")
    assert api_key_configured()
    assert wandb_logger(offline=True, save_dir=str(no_key))._offline


def test_reader_reads_records_longer_than_a_block(no_key):
    import wandb

    run = wandb.init(project="test", mode="offline", dir=str(no_key))
    long_text = "x" * 100_000  # a record over three 32 KiB blocks
    for step in range(3):
        run.log({"step_value": step, "text": long_text if step == 1 else "short"})
    run.finish()
    rows = read_history(offline_run_dir(no_key))
    assert [row["step_value"] for row in rows] == [0, 1, 2]
    assert rows[1]["text"] == long_text


def test_reader_errors_name_the_folder(tmp_path):
    with pytest.raises(InputError, match="no offline W&B run"):
        offline_run_dir(tmp_path)
    with pytest.raises(InputError, match="not an offline W&B run folder"):
        read_history(tmp_path)
    (tmp_path / "run-x.wandb").write_bytes(b"not a run")
    with pytest.raises(InputError, match="not a W&B run file"):
        read_history(tmp_path)
