"""Sampler quality and evaluation time: few-step samplers and bf16 against 50-step DDIM.

One trained run, one evaluator, one test split; every row is `remodiffuse.evaluate`'s protocol
with the same seed (the same test orders and per-batch seeds) and only the sampler, its steps,
the precision or the batching changed:

    DDIM 50                the run's released respacing "15,15,8,6,6", fp32 (the reference)
    DDIM 50, bf16          the network under bf16 autocast
    DDIM 50, not bucketed by length   prompts batched in test order
    DDIM 10                released-shaped respacing "3,3,2,1,1" (2 steps at t <= 100)
    DPM-Solver++ 5/10/20   2M on "logsnrN" (evenly spaced log-SNR: 3 / 4 / 7 steps at t <= 100)
    DPM-Solver++ 10, released-shaped   2M on "3,3,2,1,1"

Every row uses the run's condition mixture (the released form: coin-flipped guidance above
t = 100, the fixed weights at and below). A row is "within the seed spread" of the reference on
a metric when the difference of the means is at most the 95% interval of that difference
(sqrt(c_ref^2 + c_row^2) of the replication intervals). Seconds per replication are wall time of
the row's `evaluate` (generation, evaluator passes, metrics) over its replications.

    python scripts/sampler_quality.py --run RUN --evaluator EVAL_RUN --root data/synthetic \\
        --out docs/benchmarks/sampler_quality.json
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from dataclasses import asdict, dataclass, replace  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import torch  # noqa: E402
import yaml  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_sampling import machine_facts, write_report  # noqa: E402
from paper_analyses import test_items  # noqa: E402

from remodiffuse.evaluation import REAL_ROW, EvaluationSettings, evaluate  # noqa: E402
from remodiffuse.evaluators import load_evaluator  # noqa: E402
from remodiffuse.pipeline import MotionGenerator  # noqa: E402

COMPARED = ("fid", "r_precision_top1", "r_precision_top3", "mm_dist")
REFERENCE = "DDIM 50"


@dataclass(frozen=True)
class Row:
    name: str
    sampler: str
    steps: str | None  # None: the run's respacing
    precision: str = "fp32"
    bucket_by_length: bool = True
    few_step: bool = False  # a candidate for the documented fast setting


ROWS = (
    Row(REFERENCE, "ddim", None),
    Row("DDIM 50, bf16", "ddim", None, precision="bf16"),
    Row("DDIM 50, not bucketed by length", "ddim", None, bucket_by_length=False),
    Row("DDIM 10", "ddim", "3,3,2,1,1", few_step=True),
    Row("DPM-Solver++ 5", "dpm_solver++", "logsnr5", few_step=True),
    Row("DPM-Solver++ 10", "dpm_solver++", "logsnr10", few_step=True),
    Row("DPM-Solver++ 20", "dpm_solver++", "logsnr20", few_step=True),
    Row("DPM-Solver++ 10, released-shaped", "dpm_solver++", "3,3,2,1,1", few_step=True),
)


def comparison(reference: dict[str, dict], row: dict[str, dict]) -> dict[str, dict[str, Any]]:
    """Per compared metric: the difference of means, its 95% interval and whether it is inside."""
    out = {}
    for name in COMPARED:
        difference = row[name]["mean"] - reference[name]["mean"]
        interval = math.hypot(row[name]["conf95"], reference[name]["conf95"])
        out[name] = {
            "difference": difference,
            "interval": interval,
            "within": abs(difference) <= interval,
        }
    return out


def run_rows(args: argparse.Namespace) -> dict[str, Any]:
    torch.set_num_threads(args.threads)
    evaluator = load_evaluator({"kind": "contrastive", "ckpt": str(args.evaluator)})
    generators = {
        precision: MotionGenerator(args.run, args.device, precision=precision)
        for precision in ("fp32", "bf16")
    }
    test = test_items(generators["fp32"], args.root)
    base = EvaluationSettings(
        replications=args.replications, mm_num_samples=0, num_test=args.num_test, **args.protocol
    )
    started = time.perf_counter()
    rows: dict[str, dict[str, Any]] = {}
    for row in ROWS:
        generator = generators[row.precision]
        settings = replace(
            base, steps=row.steps, sampler=row.sampler, bucket_by_length=row.bucket_by_length
        )
        sampler = generator.sampler(row.steps, row.sampler)
        load = os.getloadavg()[0]
        print(f"[{time.perf_counter() - started:7.1f}s] {row.name} (load {load:.2f})", flush=True)
        clock = time.perf_counter()
        result = evaluate(generator, evaluator, test, settings, "synthetic", str(args.run), False)
        seconds = time.perf_counter() - clock
        timesteps = sampler.timesteps.tolist()
        rows[row.name] = {
            "sampler": row.sampler,
            "spacing": row.steps or generator.config["diffusion"]["respacing"],
            "steps": len(timesteps),
            "steps_at_or_below_100": sum(t <= 100 for t in timesteps),
            "timesteps": timesteps,
            "precision": row.precision,
            "bucket_by_length": row.bucket_by_length,
            "few_step": row.few_step,
            "load_average_at_start": load,
            "seconds_per_replication": seconds / args.replications,
            "metrics": result["rows"][generator.run_dir.name],
            "real": result["rows"][REAL_ROW],
        }
    reference = rows[REFERENCE]
    for values in rows.values():
        values["vs_reference"] = comparison(reference["metrics"], values["metrics"])
        values["all_within"] = all(c["within"] for c in values["vs_reference"].values())
        values["time_vs_reference"] = (
            values["seconds_per_replication"] / reference["seconds_per_replication"]
        )
    within = [v for v in rows.values() if v["few_step"] and v["all_within"]]
    fastest = min(within, key=lambda v: (v["steps"], v["seconds_per_replication"]), default=None)
    return {
        "benchmark": "sampler quality and evaluation time (one run, one evaluator)",
        **machine_facts(),
        "run": str(args.run),
        "evaluator": evaluator.name,
        "num_test_items": len(test),
        "replications": args.replications,
        "protocol": asdict(base),
        "mixture": type(generators["fp32"].mixture).__name__,
        "wall_seconds": time.perf_counter() - started,
        "compared_metrics": list(COMPARED),
        "smallest_within": None if fastest is None else _name_of(rows, fastest),
        "rows": rows,
    }


def _name_of(rows: dict[str, dict], values: dict) -> str:
    return next(name for name, v in rows.items() if v is values)


def markdown(report: dict[str, Any]) -> str:
    """The rows as a Markdown table (mean ± 95% interval; * = outside the reference's spread)."""
    header = "| sampler | steps (t <= 100) | FID | R-precision top1 | R-precision top3 | MM-Dist "
    lines = [
        f"{report['num_test_items']} test prompts, {report['replications']} replications, "
        f"evaluator `{report['evaluator']}`, {report['wall_seconds']:.0f} s wall",
        "",
        header + "| s / replication | time vs DDIM 50 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, row in report["rows"].items():
        cells = []
        for metric in COMPARED:
            value = row["metrics"][metric]
            mark = "" if row["vs_reference"][metric]["within"] else " *"
            cells.append(f"{value['mean']:.3f} ± {value['conf95']:.3f}{mark}")
        lines.append(
            f"| {name} | {row['steps']} ({row['steps_at_or_below_100']}) | "
            + " | ".join(cells)
            + f" | {row['seconds_per_replication']:.1f} | {row['time_vs_reference']:.2f}x |"
        )
    smallest = report["smallest_within"]
    lines += [
        "",
        "\\* outside the seed spread of DDIM 50 (|difference| > 95% interval of the difference)",
        f"smallest few-step setting within the spread on every metric: {smallest or 'none'}",
    ]
    return "\n".join(lines)


def parse_protocol(text: str) -> tuple[str, Any]:
    """'key=value' of an EvaluationSettings field (value parsed as YAML)."""
    key, sep, value = text.partition("=")
    if not sep or key not in EvaluationSettings.__dataclass_fields__:
        raise argparse.ArgumentTypeError(f"--protocol needs KEY=VALUE (EvaluationSettings): {text}")
    return key, yaml.safe_load(value)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", type=Path, required=True, help="training run directory")
    parser.add_argument("--evaluator", type=Path, required=True, help="contrastive evaluator run")
    parser.add_argument("--root", type=Path, required=True, help="the run's dataset directory")
    parser.add_argument("--replications", type=int, default=5)
    parser.add_argument("--num-test", type=int, default=None, help="first N test items")
    parser.add_argument(
        "--protocol", action="append", type=parse_protocol, default=[], help="KEY=VALUE"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, help="write the JSON report here (and a .md beside)")
    args = parser.parse_args(argv)
    args.protocol = dict(args.protocol)
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    report = run_rows(args)
    write_report(report, args.out)
    table = markdown(report)
    if args.out is not None:
        args.out.with_suffix(".md").write_text(table + "\n")
    print(table)
    return report


if __name__ == "__main__":
    main()
