"""The curves of a W&B offline run, rendered from its own history (no W&B server needed).

    python scripts/plot_training_curves.py RUN_DIR --out docs/training_curves.png

RUN_DIR is a training run directory trained with `logger=wandb` (its newest
wandb/offline-run-* folder is read) or such an offline-run folder itself. Panels: losses,
the quality metrics of `remodiffuse.monitoring.QualityMonitor` (any `val/*@<evaluator>`),
learning rate, gradient norm and motions per second, each against the global step.
"""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from remodiffuse.monitoring import offline_run_dir, read_history  # noqa: E402

STEP = "trainer/global_step"


def series(rows: Sequence[dict], name: str) -> tuple[list[float], list[float]]:
    """(steps, values) of one logged metric."""
    points = [(row[STEP], row[name]) for row in rows if name in row and STEP in row]
    return [p[0] for p in points], [p[1] for p in points]


def panels(rows: Sequence[dict]) -> list[tuple[str, list[str]]]:
    """(title, metric names) of each panel that has data."""
    names = {name for row in rows for name in row}
    quality = sorted(n for n in names if "@" in n and n.startswith("val/"))
    groups = [
        ("loss", [n for n in ("train/loss", "val/loss") if n in names]),
        *[(n.split("/", 1)[1], [n]) for n in quality],
        ("learning rate", sorted(n for n in names if n.startswith("lr-"))),
        ("gradient norm", [n for n in ("train/grad_norm",) if n in names]),
        ("motions / s", [n for n in names if n.endswith("samples_per_sec")]),
    ]
    return [(title, metrics) for title, metrics in groups if metrics]


def plot(rows: Sequence[dict], out: Path, title: str) -> None:
    groups = panels(rows)
    columns = 3
    lines = -(-len(groups) // columns)
    figure, axes = plt.subplots(lines, columns, figsize=(4 * columns, 2.8 * lines), squeeze=False)
    for axis, (name, metrics) in zip(axes.flat, groups, strict=False):
        for metric in metrics:
            steps, values = series(rows, metric)
            axis.plot(steps, values, marker="o" if len(steps) < 30 else None, label=metric)
        axis.set_title(name, fontsize=10)
        axis.set_xlabel("step", fontsize=8)
        axis.tick_params(labelsize=8)
        if len(metrics) > 1:
            axis.legend(fontsize=7)
    for axis in axes.flat[len(groups) :]:
        axis.axis("off")
    figure.suptitle(title, fontsize=11)
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=110)
    plt.close(figure)


def main(argv: Sequence[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="a run directory or a wandb/offline-run-* folder")
    parser.add_argument("--out", type=Path, default=Path("training_curves.png"))
    args = parser.parse_args(argv)
    folder = args.run if list(args.run.glob("run-*.wandb")) else offline_run_dir(args.run)
    plot(read_history(folder), args.out, f"W&B offline run {folder.name}")
    print(args.out)
    return args.out


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
