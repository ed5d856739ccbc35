"""scripts/plot_training_curves.py on a real W&B offline run with the monitors' metric names."""

import runpy
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "plot_training_curves.py"


def test_panels_and_png(tmp_path, monkeypatch):
    import wandb

    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    run = wandb.init(project="test", mode="offline", dir=str(tmp_path))
    for step in range(4):
        row = {"trainer/global_step": step, "train/loss": 1.0 / (step + 1), "lr-Adam": 1e-3}
        row |= {"val/fid@contrastive": 2.0 - step * 0.1} if step % 2 else {}
        run.log(row)
    run.finish()
    script = runpy.run_path(str(SCRIPT))
    rows = script["read_history"](script["offline_run_dir"](tmp_path))
    titles = [title for title, _ in script["panels"](rows)]
    assert titles == ["loss", "fid@contrastive", "learning rate"]
    assert script["series"](rows, "val/fid@contrastive") == ([1, 3], [1.9, 1.7])
    out = script["main"]([str(tmp_path), "--out", str(tmp_path / "curves.png")])
    assert out.stat().st_size > 10_000
