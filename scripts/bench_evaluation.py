"""Benchmark evaluation cost: length-bucketed batches of the library against the released padding.

The evaluation protocol generates batches of 32 test prompts. The released code pads every
motion to max_length (196) frames and runs all four mixture branches each step; the library
batches prompts of neighbouring lengths (`bucket_by_length`, so a batch is padded to about its
own length) and runs only the branches the mixture uses. Both are timed here at the paper size
(random weights, random conditions; bench_sampling.py's cases) at batch 32 for several motion
lengths, fp32 and bf16, side by side in one run, and the outputs are asserted equal (fp32 within
1e-5 on the valid frames). Each run times the first --subset-steps guided and the last
--subset-steps fixed-weight steps of the 50-step schedule and extrapolates per step kind.

The HumanML3D extrapolation: --replications x (test motions + --mm-prompts x --mm-repeats
MultiModality motions), each motion costing the released per-motion time (padded to 196) or that
times the library's side-by-side ratio, interpolated linearly between the measured lengths at
--mean-length (142 frames: HumanML3D's 7.1 s average duration at 20 fps; with 4,000+ motions in
batches of 32 sorted by length the padding within a batch is about one frame). Test motions:
the lines of ../shared/data/humanml3d-meta/test.txt when present (--test-ids), else 4384.

    .venv/bin/python scripts/bench_evaluation.py --out docs/benchmarks/evaluation.json
    .venv/bin/python scripts/bench_evaluation.py --quick --out /tmp/bench_evaluation.json
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_sampling import (  # noqa: E402
    DDIM_SPACING,
    LIBRARY,
    LIBRARY_BF16,
    RELEASED,
    TOLERANCE,
    Method,
    bench_case,
    machine_facts,
    model_config,
    random_inputs,
    random_model,
    write_report,
)

from remodiffuse.diffusion import DDIMSampler, GaussianDiffusion  # noqa: E402

BATCH = 32
DEFAULT_TEST_IDS = Path(__file__).resolve().parents[2] / "shared" / "data" / "humanml3d-meta"
FALLBACK_TEST_MOTIONS = 4384
QUICK_LENGTHS, QUICK_SPACING, QUICK_BATCH = (12, 20, 32), "3,3", 4


def test_motion_count(path: Path) -> tuple[int, str]:
    """(HumanML3D test motions, where the number comes from)."""
    if path.is_file():
        ids = [line for line in path.read_text().splitlines() if line.strip()]
        return len(ids), str(path)
    return FALLBACK_TEST_MOTIONS, "fallback (the HumanML3D test split size)"


def interpolated(lengths: Sequence[int], values: Sequence[float], length: float) -> float:
    """The value at `length`, linear between the measured lengths (clamped at the ends)."""
    return float(np.interp(length, lengths, values))


def extrapolation(args: argparse.Namespace, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """HumanML3D evaluation hours: released padded cost against the library's bucketed cost.

    The library's ratio to the released code is the side-by-side ratio of each measured length,
    interpolated at the mean length (machine speed drifts between cases; it cancels within
    one); hours scale the released per-motion time, the median over the cases (it pads every
    case to the same length, so its cases differ by noise only).
    """
    motions, source = test_motion_count(args.test_ids)
    per_replication = motions + args.mm_prompts * args.mm_repeats
    total = args.replications * per_replication
    released = statistics.median(r["seconds_per_motion"] for r in rows if r["method"] == RELEASED)
    out = {
        "test_motions": motions,
        "test_motions_source": source,
        "replications": args.replications,
        "multimodality_motions_per_replication": args.mm_prompts * args.mm_repeats,
        "motions": total,
        "mean_length": args.mean_length,
        "released_seconds_per_motion": released,
        "released_seconds_per_motion_range": [
            min(r["seconds_per_motion"] for r in rows if r["method"] == RELEASED),
            max(r["seconds_per_motion"] for r in rows if r["method"] == RELEASED),
        ],
        "released_hours": total * released / 3600,
    }
    for method in (LIBRARY, LIBRARY_BF16):
        measured = sorted(
            (r["length"], r["ratio_vs_released"]) for r in rows if r["method"] == method
        )
        lengths, ratios = zip(*measured, strict=True)
        ratio = interpolated(lengths, ratios, args.mean_length)
        out[method] = {
            "ratio_vs_released": ratio,
            "seconds_per_motion": ratio * released,
            "hours": total * ratio * released / 3600,
        }
    return out


def run_benchmark(args: argparse.Namespace) -> dict[str, Any]:
    torch.set_num_threads(args.threads)
    config, encoder = model_config("paper", args.quick)
    spacing = QUICK_SPACING if args.quick else DDIM_SPACING
    batch = QUICK_BATCH if args.quick else BATCH
    lengths = QUICK_LENGTHS if args.quick else args.lengths
    diffusion = GaussianDiffusion()
    methods = [
        Method(LIBRARY, DDIMSampler(diffusion, spacing), spacing),
        Method(RELEASED, DDIMSampler(diffusion, spacing), spacing),
        Method(LIBRARY_BF16, DDIMSampler(diffusion, spacing), spacing, precision="bf16"),
    ]
    model = random_model(config, args.seed)
    load_before = os.getloadavg()
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    for length in lengths:
        inputs = random_inputs(config, encoder, batch, length, args.seed)
        load = os.getloadavg()[0]
        print(f"[{time.perf_counter() - started:7.1f}s] batch {batch} length {length}", flush=True)
        results = bench_case(
            model, inputs, methods, args.repeats, math.inf, args.subset_steps, args.seed
        )
        for name, result in results.items():
            rows.append(
                {
                    "batch": batch,
                    "length": length,
                    "padded_to": config.max_length if name == RELEASED else length,
                    "method": name,
                    "load_average_at_start": load,
                    **result,
                    "seconds_per_motion": result["seconds"] / batch,
                    "ratio_vs_released": result["seconds"] / results[RELEASED]["seconds"],
                }
            )
    diffs = [r["max_abs_diff_vs_released"] for r in rows if r["method"] == LIBRARY]
    return {
        "benchmark": "evaluation cost: length-bucketed library batches vs released padding",
        "quick": args.quick,
        **machine_facts(),
        "load_average_before": list(load_before),
        "load_average_after": list(os.getloadavg()),
        "wall_seconds": time.perf_counter() - started,
        "model_config": config.to_dict(),
        "ddim_spacing": spacing,
        "subset_steps": args.subset_steps,
        "max_abs_diff": max(diffs),
        "outputs_match": max(diffs) <= TOLERANCE,
        "humanml3d": extrapolation(args, rows),
        "rows": rows,
    }


def markdown(report: dict[str, Any]) -> str:
    lines = [
        f"batch {report['rows'][0]['batch']}, paper size, {report['ddim_spacing']} DDIM, "
        f"{report['subset_steps']} guided + {report['subset_steps']} fixed steps timed and "
        f"extrapolated, load {report['load_average_before'][0]:.2f} before / "
        f"{report['load_average_after'][0]:.2f} after, {report['wall_seconds']:.0f} s wall"
        + (" (QUICK: tiny sizes, not a measurement)" if report["quick"] else ""),
        "",
        "| frames | method | padded to | s/motion | vs released |",
        "|---:|---|---:|---:|---:|",
    ]
    for row in report["rows"]:
        lines.append(
            f"| {row['length']} | {row['method']} | {row['padded_to']} "
            f"| {row['seconds_per_motion']:.3f} | {row['ratio_vs_released']:.2f}x |"
        )
    h = report["humanml3d"]
    lines += [
        "",
        f"HumanML3D test set ({h['test_motions']} motions, {h['replications']} replications + "
        f"{h['multimodality_motions_per_replication']} MultiModality motions each = "
        f"{h['motions']} motions, mean length {h['mean_length']} frames): released "
        f"{h['released_hours']:.0f} h, library fp32 {h[LIBRARY]['hours']:.0f} h "
        f"({h[LIBRARY]['ratio_vs_released']:.2f}x), bf16 {h[LIBRARY_BF16]['hours']:.0f} h "
        f"({h[LIBRARY_BF16]['ratio_vs_released']:.2f}x; aim 0.15x: "
        f"{'met' if h[LIBRARY_BF16]['ratio_vs_released'] <= 0.15 else 'NOT met'}) on this machine",
        f"fp32 outputs equal within {TOLERANCE:g}: {'yes' if report['outputs_match'] else 'NO'} "
        f"(max abs diff {report['max_abs_diff']:.1e})",
    ]
    return "\n".join(lines)


def parse_lengths(text: str) -> tuple[int, ...]:
    return tuple(sorted(int(part) for part in text.split(",") if part.strip()))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, help="write the JSON report here")
    parser.add_argument("--quick", action="store_true", help="tiny sizes and steps (smoke test)")
    parser.add_argument("--lengths", type=parse_lengths, default=parse_lengths("40,100,142,196"))
    parser.add_argument("--mean-length", type=float, default=142.0)
    parser.add_argument("--test-ids", type=Path, default=DEFAULT_TEST_IDS / "test.txt")
    parser.add_argument("--replications", type=int, default=20)
    parser.add_argument("--mm-prompts", type=int, default=100)
    parser.add_argument("--mm-repeats", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    parser.add_argument("--repeats", type=int, default=2, help="runs per method and length")
    parser.add_argument("--subset-steps", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    report = run_benchmark(args)
    write_report(report, args.out)
    print(markdown(report))
    if not report["outputs_match"]:
        raise AssertionError(f"library and released outputs differ by {report['max_abs_diff']:.3g}")
    return report


if __name__ == "__main__":
    main()
