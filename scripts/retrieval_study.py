"""Does retrieval help? The paper's ablation over training seeds, with controls and floors.

Per seed: (R) ReMoDiffuse and (B) the same architecture trained without retrieval, both for
--steps optimiser steps; one contrastive evaluator trained once scores every row with the
evaluation protocol (`remodiffuse.evaluate`'s, same seed, --sampler/--spacing):

    R, w = ...              paper-form mixture [w, 0, 0, 1 - w] (both vs none), a guidance sweep
    R, finetuned mixture    R's own mixture from the paper's finetune stage (experiment=mixture:
                            coarse grid by FID on training items, fine weights by Adam) at
                            FINETUNE's reduced size (--finetune-override changes it)
    R, retrieval off        R's text branch [0, w*, 0, 1 - w*] with retrieval off (Table 6 baseline)
    R, shuffled neighbours  R's best mixture with random database entries as neighbours (control)
    B, w = ...              [0, w, 0, 1 - w] (text vs none), the same sweep
    floors                  the top-1 retrieved motion, a random database entry and a random real
                            training motion used as the "generation" of every test prompt

w* is the weight with the lowest FID averaged over seeds (chosen on the test split, as the
paper's mixture search is). Every row reports FID, R-precision top-1/3, MM-Dist, tail-5 % MM,
balanced MM and MultiModality per seed (mean and 95 % replication interval) and across seeds
(mean, standard deviation, min, max). Runs go to --work-dir/seed<s>/{retrieval,baseline,mixture}
and a finished run (its model.safetensors, evaluator.safetensors or mixture_search.json) is reused;
an unfinished one resumes from its last.ckpt. Every evaluated row is stored in --work-dir/rows/
and reused as well (an error if it was evaluated with other settings).

--goal-replications N evaluates the goal rows (best R, best B) of every seed again with N
replications: the goal on those means, and how much of the spread is replication noise.

    python scripts/retrieval_study.py --seeds 3 --steps 1000 --work-dir runs/study \\
        --out-dir docs/analyses
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from dataclasses import asdict, replace  # noqa: E402
from pathlib import Path  # noqa: E402
from types import SimpleNamespace  # noqa: E402
from typing import Any  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from paper_analyses import test_items  # noqa: E402
from sampler_quality import parse_protocol  # noqa: E402

from remodiffuse.data import TextMotionDataset  # noqa: E402
from remodiffuse.errors import InputError  # noqa: E402
from remodiffuse.evaluation import EvaluationItems, EvaluationSettings, evaluate  # noqa: E402
from remodiffuse.evaluators import load_evaluator  # noqa: E402
from remodiffuse.files import write_text  # noqa: E402
from remodiffuse.motion import denormalize  # noqa: E402
from remodiffuse.pipeline import MotionGenerator, prompt_keys  # noqa: E402
from remodiffuse.stages.mixture_search import SEARCH_FILENAME  # noqa: E402

METRICS = (
    "fid",
    "r_precision_top1",
    "r_precision_top3",
    "mm_dist",
    "tail_mm_dist",
    "balanced_mm_dist",
    "multimodality",
)
FLOORS = ("top-1 retrieved", "random database entry", "random training motion")
GOAL = ("fid", "tail_mm_dist")
RUNS = {"R": "retrieval", "B": "baseline"}
# The finetune stage at a size that fits the study: 64 training items, 10 DDIM steps, a 5 x 5 grid
# over [-5, 5] and 30 Adam steps (paper: every item, 50 steps, step 0.5, 1,000 Adam steps).
FINETUNE = ("stage.num_items=64", "stage.steps=10", "stage.grid_step=2.5", "trainer.max_steps=30")


def train(command: Sequence[str], run_dir: Path, work_dir: Path, weights: str) -> str:
    """Train into run_dir unless its final weights file is there; resume from its last.ckpt if
    one exists."""
    if (run_dir / weights).is_file():
        return "reused"
    last = run_dir / "checkpoints" / "last.ckpt"
    resume = [f"ckpt_path={last}"] if last.is_file() else []
    arguments = [sys.executable, "-m", "remodiffuse.train", *command, *resume]
    arguments += [f"hydra.run.dir={run_dir}", f"paths.data_dir={work_dir / 'data'}"]
    with (work_dir / "train.log").open("a") as log:
        log.write(" ".join(arguments) + "\n")
        log.flush()
        subprocess.run(arguments, check=True, cwd=work_dir, stdout=log, stderr=subprocess.STDOUT)
    return "resumed" if resume else "trained"


def training_commands(args: argparse.Namespace, seed: int) -> dict[str, list[str]]:
    """Hydra overrides of R and B for one seed (same steps, data order and optimiser)."""
    common = [f"seed={seed}", "trainer.max_epochs=-1", f"+trainer.max_steps={args.steps}"]
    common += [*args.train_override]
    both, text, retr, none = args.branches
    shares = {
        "retrieval": (both, text, retr, none),
        "baseline": (0.0, both + text, 0.0, retr + none),  # retrieval dropped from every sample
    }
    branches = {
        name: f"stage.branch_probabilities=[{','.join(f'{p:g}' for p in values)}]"
        for name, values in shares.items()
    }
    return {name: [*common, override] for name, override in branches.items()}


class RetrievedFloor:
    """'Generates' a real motion for each prompt: its top-1 retrieved database entry, a random
    database entry, or a random real training motion (in place of a model, for the floors)."""

    def __init__(self, generator: MotionGenerator, kind: str, train_motions: list[np.ndarray]):
        self.generator, self.kind, self.train_motions = generator, kind, train_motions
        for name in ("mean", "std", "run_dir", "encoder", "database", "use_retrieval"):
            setattr(self, name, getattr(generator, name))
        self.precision, self.neighbours, self.smoothing = "fp32", "retrieved", 0.0
        statistics_ = generator.retrieval_statistics or (generator.mean, generator.std)
        self.database_mean, self.database_std = statistics_[:2]

    def generate(self, texts, lengths, seed=0, steps=None, sampler=None):
        rng = np.random.default_rng(seed)
        if self.kind == "random training motion":
            picks = rng.integers(len(self.train_motions), size=len(texts))
            return [SimpleNamespace(features=self.train_motions[i]) for i in picks]
        if self.kind == "top-1 retrieved":
            keys = prompt_keys(self.database, self.encoder.encode(list(texts)))
            entries = self.database.query(keys, lengths, k=1, exclude="none")[0][:, 0]
        else:
            entries = rng.integers(len(self.database), size=len(texts))
        motions, found = self.database.motions_of(entries, self.generator.max_length)
        raw = denormalize(motions, self.database_mean, self.database_std)
        return [SimpleNamespace(features=raw[row, : found[row]]) for row in range(len(texts))]


def paper_mixture(weights: Sequence[float]) -> dict[str, Any]:
    return {"form": "paper", "coarse": list(weights), "fine": list(weights)}


def guidance_mixture(model: str, w: float) -> dict[str, Any]:
    """R: [w, 0, 0, 1 - w] (both vs none); B: [0, w, 0, 1 - w] (text vs none)."""
    return paper_mixture([w, 0, 0, 1 - w] if model == "R" else [0, w, 0, 1 - w])


class Study:
    """The rows of one study: evaluated once each, stored under work_dir/rows/."""

    def __init__(self, args: argparse.Namespace, evaluator_dir: Path) -> None:
        self.args = args
        self.evaluator = load_evaluator({"kind": "contrastive", "ckpt": str(evaluator_dir)})
        self.settings = EvaluationSettings(
            replications=args.replications,
            mm_num_samples=args.mm_samples,
            mm_num_repeats=args.mm_repeats,
            mm_num_picks=min(args.mm_repeats, 10),
            sampler=args.sampler,
            steps=args.spacing,
            **args.protocol,
        )
        self.rows_dir = args.work_dir / "rows"
        self.test = None

    def row(
        self,
        key: str,
        build: Callable[[], Any],
        description: dict[str, Any],
        settings: EvaluationSettings | None = None,
    ) -> dict:
        """The stored row `key` (evaluated with the same settings), else evaluate the generator
        `build()` returns with `settings` (default the study's) and store it."""
        settings = settings or self.settings
        if description.get("floor"):
            settings = replace(settings, mm_num_samples=0)  # real motions: no MultiModality
        path = self.rows_dir / f"{key}.json"
        if path.is_file():
            stored = json.loads(path.read_text())
            changed = {k for k, v in asdict(settings).items() if stored["settings"].get(k) != v}
            if changed:
                raise InputError(
                    f"{path}: evaluated with other settings ({', '.join(sorted(changed))}); "
                    "use another --work-dir (or move the rows folder away)"
                )
            return stored
        generator = build()
        if self.test is None:
            self.test = test_items(generator, self.args.root)
        started = time.perf_counter()
        result = evaluate(generator, self.evaluator, self.test, settings, "synthetic", key, False)
        model_row = next(name for name in result["rows"] if name != "real motions")
        row = description | {
            "metrics": result["rows"][model_row],
            "real": result["rows"]["real motions"],
            "settings": result["settings"],
            "seconds": time.perf_counter() - started,
        }
        write_text(path, json.dumps(row, indent=2) + "\n")
        return row


def aggregate(per_seed: Sequence[dict]) -> dict[str, dict[str, float]]:
    """Across seeds, per metric: mean, std (n - 1), min, max and mean replication interval."""
    out = {}
    for metric in METRICS:
        rows = [row["metrics"][metric] for row in per_seed if metric in row["metrics"]]
        if not rows:
            continue
        means = [row["mean"] for row in rows]
        out[metric] = {
            "mean": statistics.fmean(means),
            "std": statistics.stdev(means) if len(means) > 1 else 0.0,
            "min": min(means),
            "max": max(means),
            "replication_conf95": statistics.fmean(row["conf95"] for row in rows),
            "seeds": means,
        }
    return out


def beats(better: dict, worse: dict, metric: str) -> dict[str, Any]:
    """Does `better` have the lower mean by more than the seed spread sqrt(sd_a^2 + sd_b^2)?
    (None with one seed: there is no spread to compare with.)"""
    a, b = better[metric], worse[metric]
    gap = b["mean"] - a["mean"]
    spread = math.hypot(a["std"], b["std"])
    beyond = gap > spread if min(len(a["seeds"]), len(b["seeds"])) > 1 else None
    return {"difference": gap, "seed_spread": spread, "beyond_spread": beyond}


def verdict(result: dict[str, Any]) -> str:
    """One line on a `beats` result: which model is ahead, and whether beyond the seed spread."""
    gap, spread = result["difference"], result["seed_spread"]
    if result["beyond_spread"] is None:
        return "one training seed, no spread to compare with"
    if abs(gap) <= spread:
        return "inside the noise"
    return ("R" if gap > 0 else "B") + " ahead beyond the spread"


def replicated_goal(
    study: Study,
    seeds: Sequence[int],
    best: dict[str, float],
    generator: Callable[..., Callable[[], MotionGenerator]],
    replications: int,
) -> dict[str, Any]:
    """The goal rows (best R, best B) of every seed again with `replications` replications (no
    MultiModality): the goal on their means, and the spread split into replication noise (sd over
    one model's replications, mean over seeds) and the sd of the means across seeds."""
    settings = replace(study.settings, replications=replications, mm_num_samples=0)
    rows, noise = {}, {}
    for name, w in best.items():
        mixture = guidance_mixture(name, w)
        per_seed = [
            study.row(
                f"seed{seed}_{name}_w{w:g}_x{replications}",
                generator(seed, RUNS[name], mixture=mixture),
                {"seed": seed, "model": name, "mixture": mixture, "w": w},
                settings,
            )
            for seed in seeds
        ]
        rows[name] = {"label": f"{name}, w = {w:g}", "per_seed": per_seed}
        rows[name]["across_seeds"] = aggregate(per_seed)
        noise[name] = {
            metric: {
                "replication_sd": statistics.fmean(
                    statistics.stdev(row["metrics"][metric]["values"]) for row in per_seed
                ),
                "seed_sd": rows[name]["across_seeds"][metric]["std"],
            }
            for metric in GOAL
        }
    goal = {m: beats(rows["R"]["across_seeds"], rows["B"]["across_seeds"], m) for m in GOAL}
    return {"replications": replications, "rows": rows, "noise": noise, "goal": goal}


def run_study(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    args.work_dir.mkdir(parents=True, exist_ok=True)
    seeds = list(range(args.seeds))
    status: dict[str, str] = {}
    evaluator_dir = args.work_dir / "evaluator"
    evaluator_command = ["stage=evaluator", f"trainer.max_epochs={args.evaluator_epochs}"]
    status["evaluator"] = train(
        [*evaluator_command, *args.evaluator_override],
        evaluator_dir,
        args.work_dir,
        weights="evaluator.safetensors",
    )
    for seed in seeds:
        for name, command in training_commands(args, seed).items():
            run_dir = args.work_dir / f"seed{seed}" / name
            status[f"seed{seed}/{name}"] = train(
                command, run_dir, args.work_dir, weights="model.safetensors"
            )
            print(f"[{time.perf_counter() - started:7.0f}s] seed {seed} {name}: "
                  f"{status[f'seed{seed}/{name}']}", flush=True)  # fmt: skip
        finetune = [f"seed={seed}", "experiment=mixture", *FINETUNE, *args.finetune_override]
        finetune += [f"stage.run={args.work_dir / f'seed{seed}' / 'retrieval'}"]
        mixture_dir = args.work_dir / f"seed{seed}" / "mixture"
        finetune += [f"evaluator.ckpt={evaluator_dir}", f"stage.out_dir={mixture_dir}"]
        status[f"seed{seed}/mixture"] = train(finetune, mixture_dir, args.work_dir, SEARCH_FILENAME)
    study = Study(args, evaluator_dir)

    def generator(seed: int, name: str, **options: Any) -> Callable[[], MotionGenerator]:
        return lambda: MotionGenerator(args.work_dir / f"seed{seed}" / name, **options)

    per_seed: dict[str, list[dict]] = {}

    def add(label: str, row: dict) -> None:
        per_seed.setdefault(label, []).append(row)

    for seed in seeds:
        for w in args.guidance:
            for name in ("R", "B"):
                mixture = guidance_mixture(name, w)
                row = study.row(
                    f"seed{seed}_{name}_w{w:g}",
                    generator(seed, RUNS[name], mixture=mixture),
                    {"seed": seed, "model": name, "mixture": mixture, "w": w},
                )
                add(f"{name}, w = {w:g}", row)
    best = {
        name: min(
            args.guidance,
            key=lambda w, n=name: statistics.fmean(
                r["metrics"]["fid"]["mean"] for r in per_seed[f"{n}, w = {w:g}"]
            ),
        )
        for name in ("R", "B")
    }
    w_r = best["R"]
    for seed in seeds:
        search_file = args.work_dir / f"seed{seed}" / "mixture" / SEARCH_FILENAME
        search = json.loads(search_file.read_text())
        tuned = {"form": "paper", "coarse": search["coarse"], "fine": search["fine"]}
        tuned["switch_fraction"] = search["switch_fraction"]
        add(
            "R, finetuned mixture",
            study.row(
                f"seed{seed}_R_finetuned",
                generator(seed, "retrieval", mixture=tuned),
                {"seed": seed, "model": "R", "mixture": tuned},
            ),
        )
        off = paper_mixture([0, w_r, 0, 1 - w_r])
        add(
            "R, retrieval off",
            study.row(
                f"seed{seed}_R_off_w{w_r:g}",
                generator(seed, "retrieval", mixture=off, use_retrieval=False),
                {"seed": seed, "model": "R", "mixture": off, "use_retrieval": False},
            ),
        )
        mixture = paper_mixture([w_r, 0, 0, 1 - w_r])
        add(
            "R, shuffled neighbours",
            study.row(
                f"seed{seed}_R_shuffled_w{w_r:g}",
                generator(seed, "retrieval", mixture=mixture, neighbours="shuffled"),
                {"seed": seed, "model": "R", "mixture": mixture, "neighbours": "shuffled"},
            ),
        )
    for floor in FLOORS:  # real motions: no training seed, one evaluation (seed 0's database)

        def build(floor: str = floor) -> RetrievedFloor:
            base = MotionGenerator(args.work_dir / "seed0" / "retrieval")
            return RetrievedFloor(base, floor, _training_motions(base, args.root))

        add(floor, study.row(f"floor_{floor.replace(' ', '_')}", build, {"floor": floor}))
    rows = {label: {"per_seed": values, "across_seeds": aggregate(values)}
            for label, values in per_seed.items()}  # fmt: skip
    best_r = rows[f"R, w = {w_r:g}"]["across_seeds"]
    best_b = rows[f"B, w = {best['B']:g}"]["across_seeds"]
    report = {
        "description": __doc__.split("\n\n")[0],
        "seeds": seeds,
        "steps": args.steps,
        "branch_probabilities": list(args.branches),
        "branch_probabilities_why": (
            "a categorical over (both, text, retr, none) trains every branch the mixtures use; "
            "B gets the same text/none shares with retrieval dropped"
        ),
        "guidance": list(args.guidance),
        "best_w": best,
        "protocol": asdict(study.settings),
        "evaluator": study.evaluator.name,
        "training": status,
        "goal": {metric: beats(best_r, best_b, metric) for metric in GOAL},
        "rows": rows,
    }
    if args.goal_replications:
        report["goal_replicated"] = replicated_goal(
            study, seeds, best, generator, args.goal_replications
        )
    report["runtime_seconds"] = time.perf_counter() - started
    return report


def _training_motions(generator: MotionGenerator, root: Path) -> list[np.ndarray]:
    """Every training item's motion (T_i, D), denormalised, read as `evaluate` reads a split."""
    dataset = generator.config["dataset"]
    train = TextMotionDataset(
        root, "train", dataset["min_length"], dataset["max_length"], fps=dataset["fps"]
    )
    items = EvaluationItems.from_dataset(train, None)
    return [denormalize(motion, items.mean, items.std) for motion in items.motions]


def markdown(report: dict[str, Any]) -> str:
    columns = ("FID", "R top1", "R top3", "MM-Dist", "tail-5% MM", "balanced MM", "MModality")
    lines = [
        f"{len(report['seeds'])} training seeds x {report['steps']} steps, evaluator "
        f"`{report['evaluator']}`, {report['protocol']['replications']} replications per seed; "
        "mean ± standard deviation across seeds [mean 95 % replication interval]",
        "",
        "| row | " + " | ".join(columns) + " |",
        "|---" * (len(columns) + 1) + "|",
    ]
    for label, row in report["rows"].items():
        cells = []
        for metric in METRICS:
            value = row["across_seeds"].get(metric)
            cells.append(
                "-"
                if value is None
                else f"{value['mean']:.3f} ± {value['std']:.3f} [{value['replication_conf95']:.3f}]"
            )
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append("")
    lines += goal_lines(report["goal"])
    if "goal_replicated" in report:
        lines += ["", *replicated_markdown(report["goal_replicated"])]
    lines.append(f"- runtime {report['runtime_seconds']:.0f} s")
    return "\n".join(lines)


def replicated_markdown(replicated: dict[str, Any]) -> list[str]:
    lines = [
        f"Goal rows again, {replicated['replications']} replications per seed (no MultiModality): "
        "mean ± sd across seeds of the replicated means; replication sd: sd over one model's "
        "replications, mean over seeds",
        "",
        "| row | FID | FID replication sd | tail-5% MM | tail-5% MM replication sd |",
        "|---|---|---|---|---|",
    ]
    for name, row in replicated["rows"].items():
        cells = []
        for metric in GOAL:
            value, noise = row["across_seeds"][metric], replicated["noise"][name][metric]
            cells += [f"{value['mean']:.3f} ± {value['std']:.3f}", f"{noise['replication_sd']:.3f}"]
        lines.append(f"| {row['label']} | " + " | ".join(cells) + " |")
    return [*lines, "", *goal_lines(replicated["goal"], ", replicated")]


def goal_lines(goal: dict[str, Any], qualifier: str = "") -> list[str]:
    """One line per goal metric: B - R, the seed spread and the verdict."""
    return [
        f"- {metric}{qualifier}: best B - best R = {result['difference']:.3f} "
        f"(seed spread {result['seed_spread']:.3f}): {verdict(result)}"
        for metric, result in goal.items()
    ]


def plot(report: dict[str, Any], path: Path) -> None:
    names = list(report["rows"])
    fig, axes = plt.subplots(1, 2, figsize=(11, 1.2 + 0.35 * len(names)), sharey=True)
    for ax, metric, title in ((axes[0], "fid", "FID"), (axes[1], "tail_mm_dist", "tail-5% MM")):
        for i, name in enumerate(names):
            value = report["rows"][name]["across_seeds"].get(metric)
            if value is None:
                continue
            ax.barh(i, value["mean"], xerr=value["std"], color=f"C{i % 10}")
            ax.plot(value["seeds"], [i] * len(value["seeds"]), "k.", markersize=4)
        ax.set_title(f"{title} (bar: mean, line: std, dots: seeds)", fontsize=9)
    axes[0].set_yticks(range(len(names)), names, fontsize=8)
    axes[0].invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def parse_floats(text: str) -> tuple[float, ...]:
    return tuple(float(part) for part in text.split(",") if part.strip())


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=1000, help="optimiser steps per model")
    parser.add_argument("--work-dir", type=Path, default=Path("runs/study"))
    parser.add_argument("--out-dir", type=Path, default=Path("docs/analyses"))
    parser.add_argument("--root", type=Path, default=None, help="dataset (default work/data)")
    parser.add_argument("--branches", type=parse_floats, default=(0.7, 0.1, 0.1, 0.1))
    parser.add_argument("--guidance", type=parse_floats, default=(1.0, 2.5, 4.0))
    parser.add_argument("--sampler", default="dpm_solver++")
    parser.add_argument("--spacing", default="logsnr10")
    parser.add_argument("--replications", type=int, default=1)
    parser.add_argument(
        "--goal-replications",
        type=int,
        default=0,
        help="also evaluate the best R and B rows with this many replications (0 = no, else >= 2)",
    )
    parser.add_argument("--mm-samples", type=int, default=10)
    parser.add_argument("--mm-repeats", type=int, default=5)
    parser.add_argument("--evaluator-epochs", type=int, default=10)
    parser.add_argument("--train-override", action="append", default=[], help="Hydra override")
    parser.add_argument("--evaluator-override", action="append", default=[])
    parser.add_argument(
        "--finetune-override", action="append", default=[], help="after FINETUNE's overrides"
    )
    parser.add_argument("--protocol", action="append", type=parse_protocol, default=[])
    args = parser.parse_args(argv)
    args.protocol = dict(args.protocol)
    args.work_dir = args.work_dir.resolve()
    args.root = (args.root or args.work_dir / "data" / "synthetic").resolve()
    if args.goal_replications == 1 or args.goal_replications < 0:
        parser.error("--goal-replications needs 0 (off) or at least 2 replications")
    if len(args.branches) != 4:
        parser.error("--branches needs 4 shares (both, text, retr, none)")
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    report = run_study(args)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    write_text(args.out_dir / "study.json", json.dumps(report, indent=2) + "\n")
    table = markdown(report)
    write_text(args.out_dir / "study.md", table + "\n")
    plot(report, args.out_dir / "study.png")
    print(table)
    return report


if __name__ == "__main__":
    main()
