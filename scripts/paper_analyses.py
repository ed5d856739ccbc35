"""The paper's analyses (sections 4.4-4.5) on a trained run and its dataset.

    rareness      Eq. 7 rareness of the test captions against the training captions, as a
                  100-bin histogram (Figure 5) with example captions by quantile (Table 5).
    lambda-sweep  the top-1 retrieved training motion used as the generation, scored under an
                  evaluator for several lambda of Eq. 4 (Figure 6): FID, R-precision, MM-Dist.
    ablation      the Table 6 analogue: rows of `python -m remodiffuse.evaluate` outputs side by
                  side (FID, R-precision, MM-Dist, tail-5% MM, balanced MM).

Each writes <name>.json and <name>.png into --out-dir and prints a Markdown table:

    python scripts/paper_analyses.py rareness --run RUN --root data/synthetic --out-dir DIR
    python scripts/paper_analyses.py lambda-sweep --run RUN --root data/synthetic \\
        --evaluator EVAL_RUN --out-dir DIR
    python scripts/paper_analyses.py ablation --out-dir DIR \\
        --row "ReMoDiffuse=eval/full/metrics.json" --row "no retrieval=eval/base/metrics.json"

--root is the run's dataset directory (data/synthetic for the default run); the test split is read
as `evaluate` reads it.
"""

import argparse
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from remodiffuse.data import TextMotionDataset  # noqa: E402
from remodiffuse.evaluation import (  # noqa: E402
    METRIC_COLUMNS,
    REAL_ROW,
    EvaluationItems,
    caption_features,
    caption_rareness,
    embed_motions,
    embed_texts,
    matching_metrics,
)
from remodiffuse.evaluators import load_evaluator  # noqa: E402
from remodiffuse.metrics import fid  # noqa: E402
from remodiffuse.pipeline import MotionGenerator  # noqa: E402

DEFAULT_LAMS = "0,0.01,0.03,0.1,0.3,1,3"
EXAMPLE_QUANTILES = (0.0, 0.25, 0.5, 0.75, 0.95, 1.0)
ABLATION_METRICS = (
    "fid",
    "r_precision_top1",
    "r_precision_top2",
    "r_precision_top3",
    "mm_dist",
    "tail_mm_dist",
    "balanced_mm_dist",
)
BATCH = 32  # evaluator batch and R-precision batch (the standard protocol)


def test_items(generator: MotionGenerator, root: Path) -> EvaluationItems:
    """The test split at root, with the run's length range and frame rate (as evaluate reads it)."""
    dataset = generator.config["dataset"]
    test = TextMotionDataset(
        root,
        "test",
        min_length=dataset["min_length"],
        max_length=dataset["max_length"],
        fps=dataset["fps"],
    )
    return EvaluationItems.from_dataset(test, None)


def rareness_report(rare: np.ndarray, captions: Sequence[str], bins: int = 100) -> dict[str, Any]:
    """Histogram of (Q,) rareness over `bins` equal-width bins and captions at quantiles."""
    counts, edges = np.histogram(rare, bins=bins)
    order = np.argsort(rare, kind="stable")  # (Q,)
    examples = []
    for quantile in EXAMPLE_QUANTILES:
        index = int(order[round(quantile * (len(order) - 1))])
        examples.append(
            {"quantile": quantile, "rareness": float(rare[index]), "caption": captions[index]}
        )
    return {
        "num_captions": len(captions),
        "min": float(rare.min()),
        "max": float(rare.max()),
        "mean": float(rare.mean()),
        "median": float(np.median(rare)),
        "counts": counts.tolist(),
        "edges": edges.tolist(),
        "examples": examples,
    }


def plot_rareness(report: dict[str, Any], path: Path) -> None:
    edges = np.asarray(report["edges"])
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.bar(edges[:-1], report["counts"], width=np.diff(edges), align="edge")
    ax.set_xlabel("rareness (1 - max cosine similarity to a training caption)")
    ax.set_ylabel("test captions")
    ax.set_title(f"Rareness of {report['num_captions']} test captions, 100 bins")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run_rareness(args: argparse.Namespace) -> dict[str, Any]:
    generator = MotionGenerator(args.run, args.device)
    test = test_items(generator, args.root)
    rare = caption_rareness(generator, test.captions)  # (Q,)
    report = rareness_report(rare, test.captions)
    plot_rareness(report, args.out_dir / "rareness.png")
    lines = ["| quantile | rareness | caption |", "|---|---|---|"]
    lines += [
        f"| {e['quantile']:.2f} | {e['rareness']:.4f} | {e['caption']} |"
        for e in report["examples"]
    ]
    print("\n".join(lines))
    return report


def retrieved_as_generated(
    generator: MotionGenerator, features: np.ndarray, lengths: np.ndarray, lam: float
) -> tuple[list[np.ndarray], np.ndarray]:
    """Top-1 retrieved motions (Q x (T_i, D), database normalisation, their own lengths) and
    their (Q,) entry indices, for (Q, Ds) caption features and (Q,) requested lengths."""
    neighbours, _ = generator.database.query(features, lengths, k=1, lam=lam, exclude="none")
    entries = neighbours[:, 0]  # (Q,)
    motions, found = generator.database.motions_of(entries, generator.max_length)
    return [motions[row, : found[row]] for row in range(len(entries))], entries


def paired_scores(text_emb: np.ndarray, motion_emb: np.ndarray, real_emb: np.ndarray) -> dict:
    """FID, R-precision top1-3 and MM-Dist of (Q, E) embeddings (batches of 32, drop last)."""
    return {"fid": fid(real_emb, motion_emb)} | matching_metrics(text_emb, motion_emb, BATCH)


def run_lambda_sweep(args: argparse.Namespace) -> dict[str, Any]:
    generator = MotionGenerator(args.run, args.device)
    evaluator = load_evaluator({"kind": "contrastive", "ckpt": str(args.evaluator)})
    test = test_items(generator, args.root)
    # the database's motions are stored in its own statistics (the run's unless another database)
    statistics = generator.retrieval_statistics or (generator.mean, generator.std)
    database_mean, database_std = statistics[:2]
    features = caption_features(generator, test.captions)  # (Q, Ds)
    text_emb = embed_texts(evaluator, test.captions, test.tokens, BATCH)  # (Q, E)
    real_emb = embed_motions(evaluator, test.motions, test.mean, test.std, BATCH)  # (Q, E)
    rows = [{"lam": None, "label": REAL_ROW} | paired_scores(text_emb, real_emb, real_emb)]
    for lam in args.lams:
        motions, entries = retrieved_as_generated(generator, features, test.lengths, lam)
        emb = embed_motions(evaluator, motions, database_mean, database_std, BATCH)  # (Q, E)
        found = np.array([motion.shape[0] for motion in motions])  # (Q,)
        gap = np.abs(found - test.lengths) / np.maximum(found, test.lengths)
        rows.append(
            {"lam": lam, "label": f"lambda={lam:g}"}
            | paired_scores(text_emb, emb, real_emb)
            | {
                "distinct_motions": int(np.unique(entries).size),
                "relative_length_gap": float(gap.mean()),
            }
        )
    report = {"evaluator": evaluator.name, "num_test_items": len(test), "rows": rows}
    plot_lambda_sweep(report, args.out_dir / "lambda_sweep.png")
    columns = ("fid", "r_precision_top3", "mm_dist", "distinct_motions", "relative_length_gap")
    lines = ["| | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for row in rows:
        cells = [f"{row[c]:.4f}" if c in row else "-" for c in columns]
        lines.append(f"| {row['label']} | " + " | ".join(cells) + " |")
    print(f"evaluator: {evaluator.name}\n" + "\n".join(lines))
    return report


def plot_lambda_sweep(report: dict[str, Any], path: Path) -> None:
    rows = [row for row in report["rows"] if row["lam"] is not None]
    lams = [row["lam"] for row in rows]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for ax, key, label in (
        (axes[0], "fid", "FID (retrieved motions vs test motions)"),
        (axes[1], "r_precision_top3", "R-precision top 3"),
    ):
        ax.plot(lams, [row[key] for row in rows], marker="o")
        ax.set_xscale("symlog", linthresh=0.01)
        ax.set_xlabel("lambda")
        ax.set_title(label, fontsize=10)
    fig.suptitle(f"Top-1 retrieval used as the generation ({report['evaluator']})", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def ablation_rows(named_files: Sequence[tuple[str, Path]]) -> tuple[str, dict[str, dict]]:
    """(evaluator, {row name: metrics}) of evaluate outputs; the real row from the first file."""
    evaluators, rows = set(), {}
    for index, (name, path) in enumerate(named_files):
        result = json.loads(path.read_text())
        evaluators.add(result["evaluator"])
        if index == 0:
            rows[REAL_ROW] = result["rows"][REAL_ROW]
        model_rows = [row for row in result["rows"] if row != REAL_ROW]
        if len(model_rows) != 1:
            raise ValueError(f"{path}: expected one model row, found {model_rows}")
        rows[name] = result["rows"][model_rows[0]]
    if len(evaluators) != 1:
        raise ValueError(f"the rows were scored by different evaluators: {sorted(evaluators)}")
    return evaluators.pop(), rows


def run_ablation(args: argparse.Namespace) -> dict[str, Any]:
    evaluator, rows = ablation_rows(args.row)
    header = [METRIC_COLUMNS[key] for key in ABLATION_METRICS]
    lines = [f"Evaluator: `{evaluator}`", "", "| | " + " | ".join(header) + " |"]
    lines.append("|---" * (len(header) + 1) + "|")
    for name, metrics in rows.items():
        cells = [f"{metrics[k]['mean']:.3f} ± {metrics[k]['conf95']:.3f}" for k in ABLATION_METRICS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    table = "\n".join(lines) + "\n"
    (args.out_dir / "ablation.md").write_text(table)
    plot_ablation(evaluator, rows, args.out_dir / "ablation.png")
    print(table)
    return {"evaluator": evaluator, "rows": rows}


def plot_ablation(evaluator: str, rows: dict[str, dict], path: Path) -> None:
    keys = ("fid", "r_precision_top3", "mm_dist", "tail_mm_dist", "balanced_mm_dist")
    names = list(rows)
    height = 1.2 + 0.4 * len(names)
    fig, axes = plt.subplots(1, len(keys), figsize=(2.6 * len(keys) + 2, height), sharey=True)
    for ax, key in zip(axes, keys, strict=True):
        means = [rows[name][key]["mean"] for name in names]
        errors = [rows[name][key]["conf95"] for name in names]
        colors = [f"C{i}" for i in range(len(names))]
        ax.barh(range(len(names)), means, xerr=errors, color=colors)
        ax.set_title(METRIC_COLUMNS[key], fontsize=10)
    axes[0].set_yticks(range(len(names)), names, fontsize=8)
    axes[0].invert_yaxis()
    fig.suptitle(f"Ablation under {evaluator} (mean ± 95% interval)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def parse_row(text: str) -> tuple[str, Path]:
    """'name=path/metrics.json' -> (name, path)."""
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"--row needs NAME=metrics.json, got {text!r}")
    return name, Path(path)


def parse_lams(text: str) -> list[float]:
    """'0,0.1,1' -> [0.0, 0.1, 1.0] (non-negative)."""
    lams = [float(part) for part in text.split(",") if part.strip()]
    if not lams or any(lam < 0 for lam in lams):
        raise argparse.ArgumentTypeError(f"need non-negative lambdas, got {text!r}")
    return lams


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("rareness", "lambda-sweep"):
        command = commands.add_parser(name)
        command.add_argument("--run", type=Path, required=True, help="training run directory")
        command.add_argument("--root", type=Path, required=True, help="dataset directory")
        command.add_argument("--device", default="cpu")
        command.add_argument("--out-dir", type=Path, default=Path("analyses"))
    sweep = commands.choices["lambda-sweep"]
    sweep.add_argument("--evaluator", type=Path, required=True, help="contrastive evaluator run")
    sweep.add_argument("--lams", type=parse_lams, default=parse_lams(DEFAULT_LAMS))
    ablation = commands.add_parser("ablation")
    ablation.add_argument(
        "--row", action="append", type=parse_row, required=True, help="NAME=metrics.json"
    )
    ablation.add_argument("--out-dir", type=Path, default=Path("analyses"))
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    run = {"rareness": run_rareness, "lambda-sweep": run_lambda_sweep, "ablation": run_ablation}
    report = run[args.command](args)
    name = args.command.replace("-", "_")
    (args.out_dir / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


if __name__ == "__main__":
    main()
