"""Timelines measured: per-segment quality against single clips, and seam smoothness.

For timelines of 2 to 5 segments whose prompts are test captions of single-primitive synthetic
motions (at those motions' lengths), it generates each timeline once fused
(`MotionGenerator.generate_timeline`) and its segments once as independent single clips with the
same seed, and reports:

- per segment, under a contrastive evaluator: R-precision top-1/3 and FID (against the test
  split's real motions) of the fused timeline cut at the segment bounds vs the single clips;
- per seam (FlowMDM's PJ and AUJ, `remodiffuse.metrics.jerk`): the fused timeline, the single
  clips concatenated naively (features joined, so the root path continues and only the pose
  jumps) and real synthetic motions at their primitive changes between the same two actions.

    python scripts/timeline_quality.py --run runs/study/seed0/retrieval \\
        --evaluator runs/study/evaluator --root runs/study/data/synthetic --out-dir docs/analyses

`--smoothing SIGMA` smooths the sampled motions (`MotionGenerator(smoothing=...)`), both the
timelines and the clips; `--combine DIR ...` summarises earlier out-dirs (one per training seed)
as mean ± sd across them.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from itertools import pairwise  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from paper_analyses import test_items  # noqa: E402

from remodiffuse.evaluation.protocol import embed_motions, embed_texts, matching_metrics  # noqa: E402
from remodiffuse.evaluators import load_evaluator  # noqa: E402
from remodiffuse.files import write_text  # noqa: E402
from remodiffuse.metrics import fid  # noqa: E402
from remodiffuse.metrics.jerk import frame_jerk, seam_jerk  # noqa: E402
from remodiffuse.motion import joints_from_features, normalize  # noqa: E402
from remodiffuse.pipeline import MotionGenerator  # noqa: E402
from remodiffuse.pipeline.timeline import Segment  # noqa: E402

KINDS = ("fused timeline", "single clips")
SEAM_KINDS = ("fused timeline", "naive concatenation", "real motions")
JERK_KEYS = ("peak_jerk", "area_under_jerk", "median_jerk")  # median: over the whole motion
PROFILE_EDGES = (5, 10, 20, 50)  # frames from the nearest seam: bins 0-5, 5-10, ..., 50+


class JerkProfile:
    """Mean jerk by distance (frames) to the nearest seam, pooled over motions."""

    def __init__(self) -> None:
        self.sums = np.zeros(len(PROFILE_EDGES) + 1)
        self.counts = np.zeros(len(PROFILE_EDGES) + 1)

    def add(self, joints: np.ndarray, seams: list[int], fps: float) -> None:
        jerk = frame_jerk(joints, fps)  # (T - 3,)
        centres = np.arange(len(jerk)) + 1.5  # entry i sits between frames i + 1 and i + 2
        distance = np.abs(centres[:, None] - np.asarray(seams)[None]).min(axis=1)
        bins = np.digitize(distance, PROFILE_EDGES)
        self.sums += np.bincount(bins, weights=jerk, minlength=len(self.sums))
        self.counts += np.bincount(bins, minlength=len(self.counts))

    def means(self) -> list[float | None]:
        return [float(s / c) if c else None for s, c in zip(self.sums, self.counts, strict=True)]


def primitive_labels(root: Path) -> dict[str, list[dict[str, Any]]]:
    """motion id -> its primitives ({label, start, end} in joint frames) from synthetic.json."""
    motions = json.loads((root / "synthetic.json").read_text())["motions"]
    return {motion_id: motion["primitives"] for motion_id, motion in motions.items()}


def real_seams(
    root: Path, primitives: dict, pairs: set[tuple[str, str]], fps: float, profile: JerkProfile
) -> dict:
    """Mean PJ / AUJ over every real primitive change between a pair of `pairs` (and their
    motions added to `profile`)."""
    jerks = []
    for motion_id, parts in primitives.items():
        seams = [a["end"] for a, b in pairwise(parts) if (a["label"], b["label"]) in pairs]
        if seams:
            joints = np.load(root / "new_joints" / f"{motion_id}.npy")
            median = float(np.median(frame_jerk(joints, fps)))
            jerks += [seam_jerk(joints, [seam], fps) | {"median_jerk": median} for seam in seams]
            profile.add(joints, seams, fps)
    return {
        "seams": len(jerks),
        **{key: float(np.mean([j[key] for j in jerks])) if jerks else None for key in JERK_KEYS},
    }


def paired_difference(fused: list[dict], naive: list[dict]) -> dict[str, float]:
    """Mean and standard error over timelines of fused minus naive PJ and AUJ (same prompts
    and seeds)."""
    result = {}
    for key in JERK_KEYS[:2]:
        differences = np.array([a[key] - b[key] for a, b in zip(fused, naive, strict=True)])
        result[key] = float(differences.mean())
        result[f"{key}_sem"] = float(differences.std(ddof=1) / np.sqrt(len(differences)))
    return result


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.combine:
        combine(args.combine, args.out_dir)
        return
    started = time.perf_counter()
    mixture = None if args.mixture is None else OmegaConf.to_container(OmegaConf.load(args.mixture))
    generator = MotionGenerator(args.run, mixture=mixture, smoothing=args.smoothing)
    evaluator = load_evaluator({"kind": "contrastive", "ckpt": str(args.evaluator)})
    fps = generator.config["dataset"]["fps"]
    test = test_items(generator, args.root)
    primitives = primitive_labels(args.root)
    single = [i for i, m in enumerate(test.motion_ids) if len(primitives[m]) == 1]
    real_emb = embed_motions(evaluator, test.motions, test.mean, test.std, 32)
    rng = np.random.default_rng(args.seed)
    report: dict[str, Any] = {
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "segments": {},
    }
    pairs: set[tuple[str, str]] = set()
    profiles = {kind: JerkProfile() for kind in SEAM_KINDS}
    for count in args.segments:
        texts, tokens, cut = [], [], {kind: [] for kind in KINDS}
        seams = {kind: [] for kind in SEAM_KINDS[:2]}
        for number in range(args.timelines):
            picks = rng.choice(single, size=count, replace=len(single) < count)
            lengths = [int(test.lengths[i]) for i in picks]
            bounds = np.concatenate([[0], np.cumsum(lengths)]).tolist()
            prompts = [test.captions[i] for i in picks]
            segments = [
                Segment(t, a, b) for t, (a, b) in zip(prompts, pairwise(bounds), strict=True)
            ]
            options = {"seed": number, "steps": args.steps, "sampler": args.sampler}
            timeline = generator.generate_timeline(segments, overlap=args.overlap, **options)
            clips = generator.generate(prompts, lengths, **options)
            texts += prompts
            tokens += [test.tokens[i] for i in picks]
            cut["fused timeline"] += [timeline.features[a:b] for a, b in pairwise(bounds)]
            cut["single clips"] += [clip.features for clip in clips]
            pasted = joints_from_features(
                np.concatenate(cut["single clips"][-count:]), generator.skeleton
            )
            for kind, joints in (
                ("fused timeline", timeline.joints),
                ("naive concatenation", pasted),
            ):
                profiles[kind].add(joints, bounds[1:-1], fps)
                median = float(np.median(frame_jerk(joints, fps)))
                seams[kind].append(seam_jerk(joints, bounds[1:-1], fps) | {"median_jerk": median})
            labels = [primitives[test.motion_ids[i]][0]["label"] for i in picks]
            pairs.update(pairwise(labels))
        text_emb = embed_texts(evaluator, texts, tokens, 32)
        row: dict[str, Any] = {}
        for kind in KINDS:
            motions = [normalize(m, generator.mean, generator.std) for m in cut[kind]]
            emb = embed_motions(evaluator, motions, generator.mean, generator.std, 32)
            scores = matching_metrics(text_emb, emb, 32, drop_last=False)
            row[kind] = {"fid": fid(real_emb, emb)} | {
                key: scores[key] for key in ("r_precision_top1", "r_precision_top3")
            }
        for kind, values in seams.items():
            row[kind] = row.get(kind, {}) | {
                key: float(np.mean([v[key] for v in values])) for key in JERK_KEYS
            }
        row["fused - naive"] = paired_difference(*seams.values())
        report["segments"][str(count)] = row
        print(f"[{time.perf_counter() - started:7.0f}s] {count} segments: {json.dumps(row)}")
    report["real motions"] = real_seams(args.root, primitives, pairs, fps, profiles["real motions"])
    bins = [f"{a}-{b}" for a, b in pairwise((0, *PROFILE_EDGES))] + [f"{PROFILE_EDGES[-1]}+"]
    report["jerk by frames to the seam"] = {"bins": bins} | {
        kind: profile.means() for kind, profile in profiles.items()
    }
    report["runtime_seconds"] = time.perf_counter() - started
    write_outputs(report, args.out_dir)


def write_outputs(report: dict[str, Any], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    write_text(out_dir / "timeline.json", json.dumps(report, indent=2) + "\n")
    real = report["real motions"]
    lines = [
        "# Timelines: per-segment quality and seam smoothness",
        "",
        f"{report['settings']['timelines']} timelines per segment count, "
        f"{report['settings']['steps']} steps of {report['settings']['sampler']}, overlap "
        f"{report['settings']['overlap']} frames, smoothing "
        f"{report['settings']['smoothing']} frames; real primitive changes between the same "
        f"actions: {real['seams']} seams, PJ {fmt(real['peak_jerk'])}, AUJ "
        f"{fmt(real['area_under_jerk'])} (median jerk of those motions "
        f"{fmt(real['median_jerk'])}).",
        "PJ, AUJ: at the seams; median jerk: over whole motions (m/s³, m/s²).",
        "",
        "| segments | FID fused | FID clips | R@1 fused | R@1 clips | R@3 fused | R@3 clips "
        "| PJ fused | PJ naive | AUJ fused | AUJ naive | median fused | median naive "
        "| PJ fused - naive (± s.e.) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for count, row in report["segments"].items():
        keys = ("fid", "r_precision_top1", "r_precision_top3")
        cells = [row[kind][key] for key in keys for kind in KINDS]
        cells += [row[kind][key] for key in JERK_KEYS for kind in SEAM_KINDS[:2]]
        difference = row["fused - naive"]
        paired = f"{fmt(difference['peak_jerk'])} ± {fmt(difference['peak_jerk_sem'])}"
        lines.append(f"| {count} | " + " | ".join(fmt(c) for c in cells) + f" | {paired} |")
    profile = report["jerk by frames to the seam"]
    lines += ["", "Mean jerk (m/s³) by frames to the nearest seam, over every timeline:", ""]
    lines += [
        "| | " + " | ".join(profile["bins"]) + " |",
        "|---" * (len(profile["bins"]) + 1) + "|",
    ]
    lines += [
        f"| {kind} | " + " | ".join(fmt(v) for v in profile[kind]) + " |" for kind in SEAM_KINDS
    ]
    write_text(out_dir / "timeline.md", "\n".join(lines) + "\n")
    counts = list(report["segments"])
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4))
    for kind in SEAM_KINDS[:2]:
        peaks = [report["segments"][c][kind]["peak_jerk"] for c in counts]
        left.plot(counts, peaks, "o-", label=kind)
    label_peak_axis(left, real["peak_jerk"], "peak jerk at seams (m/s³)")
    for kind in SEAM_KINDS:
        values = [np.nan if v is None else v for v in profile[kind]]
        right.plot(profile["bins"], values, "o-", label=kind)
    right.set_xlabel("frames to the nearest seam")
    right.set_ylabel("mean jerk (m/s³)")
    right.set_yscale("log")
    right.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(out_dir / "timeline.png", dpi=120)


ACROSS_RUNS = {  # summary name -> (row kind, key)
    "PJ fused": ("fused timeline", "peak_jerk"),
    "PJ naive": ("naive concatenation", "peak_jerk"),
    "PJ fused - naive": ("fused - naive", "peak_jerk"),
    "median jerk fused": ("fused timeline", "median_jerk"),
    "FID fused": ("fused timeline", "fid"),
    "FID clips": ("single clips", "fid"),
    "R@3 fused": ("fused timeline", "r_precision_top3"),
    "R@3 clips": ("single clips", "r_precision_top3"),
}


def combine(report_dirs: list[Path], out_dir: Path) -> None:
    """Mean and standard deviation across runs (training seeds) of reports written before,
    per segment count they all have, into timeline_runs.json / .md / .png."""
    reports = [json.loads((d / "timeline.json").read_text()) for d in report_dirs]
    counts = [c for c in reports[0]["segments"] if all(c in r["segments"] for r in reports)]
    summary: dict[str, Any] = {"runs": [str(d) for d in report_dirs], "segments": {}}
    for count in counts:
        rows = [report["segments"][count] for report in reports]
        summary["segments"][count] = {
            name: {
                "mean": float(np.mean(values := [row[kind][key] for row in rows])),
                "sd": float(np.std(values, ddof=1)) if len(values) > 1 else None,
            }
            for name, (kind, key) in ACROSS_RUNS.items()
        }
    real = reports[0]["real motions"]
    summary["real motions"] = real
    out_dir.mkdir(parents=True, exist_ok=True)
    write_text(out_dir / "timeline_runs.json", json.dumps(summary, indent=2) + "\n")
    lines = [
        f"# Timelines across {len(reports)} runs: mean ± sd",
        "",
        *[f"- {d}" for d in summary["runs"]],
        "",
        f"Real primitive changes between the same actions: PJ {fmt(real['peak_jerk'])} m/s³.",
        "",
        "| segments | " + " | ".join(ACROSS_RUNS) + " |",
        "|---" * (len(ACROSS_RUNS) + 1) + "|",
    ]
    for count, row in summary["segments"].items():
        cells = [f"{fmt(v['mean'])} ± {fmt(v['sd'])}" for v in row.values()]
        lines.append(f"| {count} | " + " | ".join(cells) + " |")
    write_text(out_dir / "timeline_runs.md", "\n".join(lines) + "\n")
    figure, axis = plt.subplots(figsize=(4.8, 3.4))
    for name in ("PJ fused", "PJ naive"):
        cells = [summary["segments"][c][name] for c in counts]
        means, spreads = [v["mean"] for v in cells], [v["sd"] or 0 for v in cells]
        axis.errorbar(counts, means, spreads, fmt="o-", capsize=3, label=name.removeprefix("PJ "))
    label_peak_axis(axis, real["peak_jerk"], "peak jerk at seams (m/s³), mean ± sd")
    figure.tight_layout()
    figure.savefig(out_dir / "timeline_runs.png", dpi=120)


def label_peak_axis(axis: Any, real_peak: float | None, ylabel: str) -> None:
    """Peak jerk by segment count: the real primitive changes' level, labels, legend."""
    if real_peak is not None:
        axis.axhline(real_peak, color="k", ls="--", label="real primitive changes")
    axis.set_xlabel("segments per timeline")
    axis.set_ylabel(ylabel)
    axis.set_ylim(bottom=0)
    axis.legend(fontsize=8)


def fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3g}"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path)
    parser.add_argument("--evaluator", type=Path)
    parser.add_argument("--mixture", type=Path, help="a mixture.yaml (default: the run's)")
    parser.add_argument("--root", type=Path, help="the synthetic dataset")
    parser.add_argument(
        "--segments", type=lambda s: [int(x) for x in s.split(",")], default=[2, 3, 4, 5]
    )
    parser.add_argument("--timelines", type=int, default=32, help="per segment count")
    parser.add_argument("--steps", default="logsnr10")
    parser.add_argument("--sampler", default="dpm_solver++")
    parser.add_argument("--overlap", type=int, default=20)
    parser.add_argument(
        "--smoothing", type=float, default=0.0, help="Gaussian sigma (frames) over the result"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", type=Path, default=Path("docs/analyses"))
    parser.add_argument(
        "--combine", type=Path, nargs="+", help="out-dirs of earlier runs: mean ± sd across them"
    )
    args = parser.parse_args(argv)
    if not args.combine and not (args.run and args.evaluator and args.root):
        parser.error("--run, --evaluator and --root are required (or --combine DIR ...)")
    return args


if __name__ == "__main__":
    main()
