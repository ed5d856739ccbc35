"""Benchmark sampling: the library's path against the released sampler's cost, side by side.

Seconds per motion for the released 50-step DDIM ("15,15,8,6,6") with the released condition
mixture (HumanML3D values), at the paper size (conf/model/remodiffuse.yaml, CLIP-width tokens of
length 77) and the small default (conf/model/small.yaml, MiniLM-width tokens), for batch 1 and
32 and motion lengths 196 and 60 (every motion of a batch has the same length). Random weights
and random conditions of the right shapes (no text encoder, no database): it measures speed.

* library: what `MotionGenerator.generate` does: conditions encoded once, only the branches with
  a non-zero mixture coefficient evaluated (one batched call), the batch padded to its longest
  motion, `sample_loop` + `mixture_denoise_fn`.
* released: the released code's cost model (tests/models/released_sampler.py, checked against
  the library there): conditions encoded once, all four branches in one batched call every
  step, every motion padded to max_length frames (196: the 60-frame cases are the evaluation's).
  It replays the coins drawn by the library run, so both sample the same thing: the outputs are
  asserted equal within 1e-5 on the valid frames and the largest difference is reported.
* library-ddim-bf16: the library path with the network under bf16 autocast; its difference from
  the released (fp32) output is reported, not asserted.
* library DPM-Solver++(2M) at 10 and 20 steps ("logsnr10", "logsnr20"), same mixture.

Runs of one case are interleaved (library, released, DPM 10, DPM 20, then the next repeat in the
other order; at most --repeats, fewer once the released runs of the case would exceed --budget
seconds) and the ratios are those of the medians of this run. Each case starts with a warm-up
of every method at batch 1 (one guided and one fixed-weight step). Torch runs --threads
intra-op threads (default 2) with OMP_WAIT_POLICY=PASSIVE unless set (spinning OpenMP threads
make times on shared cores erratic); the load average is recorded, as other processes on the
machine still skew absolute times.

A case whose released run is estimated (from the batch-1 case of the same size and length) to take
longer than --budget seconds is measured on a subset of the steps: the first --subset-steps
guided (coin) steps and the last --subset-steps fixed-weight steps of each schedule,
extrapolated per step kind to the whole schedule; such rows are marked "extrapolated" (--full
never extrapolates; the paper size at batch 32 then takes most of an hour on 2 cores).

    .venv/bin/python scripts/bench_sampling.py --out bench_sampling.json
    .venv/bin/python scripts/bench_sampling.py --quick --out /tmp/bench_sampling.json
"""

import os

# Before torch loads OpenMP: idle threads sleep instead of spinning, so other processes on the
# same cores (and this one's descheduled threads) do not stall every parallel region.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import json
import math
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from torch import Tensor, nn

from remodiffuse.configs import config_dir, plain_dict
from remodiffuse.diffusion import (
    ConditionMixture,
    DDIMSampler,
    DPMSolverPlusPlusSampler,
    GaussianDiffusion,
    ReleasedMixture,
    Sampler,
    mixture_denoise_fn,
    sample_loop,
)
from remodiffuse.models import ModelConfig, SemanticsModulatedTransformer
from remodiffuse.motion.masks import length_mask
from remodiffuse.pipeline import PromptBatch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "models"))
from released_sampler import released_denoise_fn  # noqa: E402

TOLERANCE = 1e-5
DATASET = "humanml3d"  # the released mixture's values
DDIM_SPACING = "15,15,8,6,6"  # the released 50-step respacing
SIZES = {"paper": ("remodiffuse", "clip"), "small": ("small", "minilm")}  # model, text encoder
RELEASED, LIBRARY, LIBRARY_BF16 = "released-ddim", "library-ddim", "library-ddim-bf16"


@dataclass(frozen=True)
class Setting:
    """Everything that differs between the full benchmark and --quick."""

    batches: tuple[int, ...]
    lengths: tuple[int, ...]
    ddim_spacing: str
    dpm_steps: tuple[int, ...]
    quick: bool


FULL = Setting((1, 32), (196, 60), DDIM_SPACING, (10, 20), quick=False)
QUICK = Setting((1, 4), (24, 12), "3,3", (3, 4), quick=True)
# --quick: conf/debug/tiny.yaml's model; max_length 32 is the "196" the released path pads to.
QUICK_OVERRIDES = ("debug=tiny", "model.max_length=32")


@dataclass(frozen=True)
class Inputs:
    """Random conditions as `encode_conditions` takes them, and the initial noise."""

    text_tokens: Tensor  # (B, L, Dt)
    text_mask: Tensor  # (B, L) bool
    retrieved_motions: Tensor  # (B, R, max_length, D), zero after each length
    retrieved_lengths: Tensor  # (B, R)
    retrieved_tokens: Tensor  # (B, R, Lr, Dr)
    retrieved_mask: Tensor  # (B, R, Lr) bool
    lengths: Tensor  # (B,) motion lengths to generate
    noise: Tensor  # (B, max(lengths), D)
    padding_noise: Tensor  # (B, max_length - max(lengths), D), the released path's extra frames

    def encode(self, model: SemanticsModulatedTransformer):
        return model.encode_conditions(
            self.text_tokens,
            self.text_mask,
            self.retrieved_motions,
            self.retrieved_lengths,
            self.retrieved_tokens,
            self.retrieved_mask,
        )


@dataclass
class Clock:
    """Wall-clock timestamps of a sampling run: setup end, then one per denoise call."""

    start: float = 0.0
    setup_end: float = 0.0
    ticks: list[tuple[int, float]] = field(default_factory=list)  # (step_index, time)
    end: float = 0.0

    def tick(self, step_index: int, t: int, x_t: Tensor, x0_pred: Tensor) -> None:
        self.ticks.append((step_index, time.perf_counter()))


@dataclass
class Run:
    """One timed run: seconds (whole schedule, measured or extrapolated) and the output."""

    seconds: float
    output: Tensor  # (B, T, D) valid frames
    coins: list[int]


def model_config(size: str, quick: bool) -> tuple[ModelConfig, str]:
    """The size's ModelConfig as Hydra composes conf/model/<size>.yaml (with `quick`, under
    debug=tiny), and the token encoder."""
    model_name, encoder = SIZES[size]
    overrides = [f"model={model_name}", f"text_encoder={encoder}"]
    if quick:
        overrides += QUICK_OVERRIDES
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        cfg = compose("train", overrides=overrides)
    GlobalHydra.instance().clear()
    return ModelConfig.from_dict(plain_dict(cfg.model)), encoder


def random_model(config: ModelConfig, seed: int) -> SemanticsModulatedTransformer:
    """Default torch init, with the zero-initialised layers re-drawn so nothing is trivially 0."""
    torch.manual_seed(seed)
    model = SemanticsModulatedTransformer(config)
    for module in model.modules():
        if isinstance(module, nn.Linear) and not module.weight.any():
            module.reset_parameters()
    return model.eval()


def random_inputs(config: ModelConfig, encoder: str, batch: int, length: int, seed: int) -> Inputs:
    """CLIP-like tokens (77, all valid) or MiniLM-like (padded to the batch's longest caption)."""
    g = torch.Generator().manual_seed(seed)
    retrieval = config.retrieval
    count, frames, feats = retrieval.num_retrieval, config.max_length, config.input_feats
    short = 10 if frames < 100 else 40  # dataset min_length 40 (quick: a tiny max_length)

    def tokens(shape: tuple[int, ...], width: int) -> tuple[Tensor, Tensor]:
        if encoder == "clip":
            slots = 16 if frames < 100 else 77
            return torch.randn(*shape, slots, width, generator=g), torch.ones(
                *shape, slots, dtype=torch.bool
            )
        valid = torch.randint(6, 25, shape, generator=g)  # word pieces incl. [CLS]/[SEP]
        slots = int(valid.max())
        mask = length_mask(valid, slots)
        return torch.randn(*shape, slots, width, generator=g) * mask[..., None], mask

    text_tokens, text_mask = tokens((batch,), config.text_token_dim)
    retrieved_tokens, retrieved_mask = tokens((batch, count), retrieval.text_token_dim)
    retrieved_lengths = torch.randint(short, frames + 1, (batch, count), generator=g)
    valid = length_mask(retrieved_lengths, frames)  # (B, R, T)
    motions = torch.randn(batch, count, frames, feats, generator=g) * valid[..., None]
    return Inputs(
        text_tokens=text_tokens,
        text_mask=text_mask,
        retrieved_motions=motions,
        retrieved_lengths=retrieved_lengths,
        retrieved_tokens=retrieved_tokens,
        retrieved_mask=retrieved_mask,
        lengths=torch.full((batch,), length),
        noise=torch.randn(batch, length, feats, generator=g),
        padding_noise=torch.randn(batch, frames - length, feats, generator=g),
    )


def step_plan(sampler: Sampler, subset: int | None, threshold: int = 100) -> list[int] | None:
    """None (every step) or the first `subset` guided and the last `subset` fixed-weight steps."""
    if subset is None:
        return None
    guided = [i for i, t in enumerate(sampler.timesteps) if t > threshold]
    fixed = [i for i, t in enumerate(sampler.timesteps) if t <= threshold]
    plan = guided[:subset] + fixed[len(fixed) - min(subset, len(fixed)) :]
    return None if len(plan) == sampler.num_steps else plan


def run_steps(
    denoise: Callable[[Tensor, int], Tensor],
    noise: Tensor,
    sampler: Sampler,
    plan: list[int] | None,
    clock: Clock,
) -> Tensor:
    """`sample_loop` over the whole schedule, or over each contiguous run of planned steps."""
    if plan is None:
        return sample_loop(denoise, noise, sampler, callback=clock.tick)
    x = noise
    runs = np.split(np.asarray(plan), np.flatnonzero(np.diff(plan) != 1) + 1)
    for steps in runs:
        start, stop = int(steps[0]), int(steps[-1]) + 1
        x = sample_loop(denoise, x, sampler, callback=clock.tick, start=start, stop=stop)
    return x


def total_seconds(clock: Clock, sampler: Sampler, plan: list[int] | None, threshold=100) -> float:
    """Measured wall time, or setup + per-kind mean step time x steps of that kind + tail."""
    if plan is None:
        return clock.end - clock.start
    kinds: dict[bool, list[float]] = {True: [], False: []}
    previous = clock.setup_end
    for step_index, stamp in clock.ticks:
        kinds[bool(sampler.timesteps[step_index] > threshold)].append(stamp - previous)
        previous = stamp
    total = (clock.setup_end - clock.start) + (clock.end - previous)
    for guided, durations in kinds.items():
        count = int(np.sum((sampler.timesteps > threshold) == guided))
        if count:
            total += statistics.fmean(durations) * count
    return total


@torch.inference_mode()
def library_run(
    model: SemanticsModulatedTransformer,
    inputs: Inputs,
    sampler: Sampler,
    seed: int,
    plan: list[int] | None,
    precision: str = "fp32",
) -> Run:
    """MotionGenerator.generate's path from encoded-condition inputs to x0 (valid frames)."""
    clock = Clock(start=time.perf_counter())
    batch, frames = inputs.noise.shape[:2]
    prompts = PromptBatch(
        model,
        inputs.encode(model),
        neighbours=np.zeros((batch, 0), dtype=np.int64),  # conditions are given, not retrieved
        mask=length_mask(inputs.lengths, frames),  # (B, T)
        precision=precision,
    )
    prompts.condition_sums  # noqa: B018 -- reduced once, before the steps (setup time)
    mixture = ConditionMixture.released(DATASET, seed=seed)
    clock.setup_end = time.perf_counter()
    x0 = run_steps(
        mixture_denoise_fn(mixture, prompts.model_call, sampler), inputs.noise, sampler, plan, clock
    )
    clock.end = time.perf_counter()
    return Run(total_seconds(clock, sampler, plan), x0, list(mixture.drawn))


@torch.inference_mode()
def released_run(
    model: SemanticsModulatedTransformer,
    inputs: Inputs,
    sampler: Sampler,
    coins: Sequence[int],
    plan: list[int] | None,
) -> Run:
    """The released cost model (tests/models/released_sampler.py), every motion padded to
    max_length, replaying `coins`."""
    clock = Clock(start=time.perf_counter())
    frames = inputs.noise.shape[1]
    x_t = torch.cat([inputs.noise, inputs.padding_noise], dim=1)  # (B, max_length, D)
    mask = length_mask(inputs.lengths, x_t.shape[1])  # (B, max_length)
    mixture = ReleasedMixture(**_released_values(), coins=coins)
    denoise = released_denoise_fn(model, inputs.encode(model), mask, mixture, sampler)
    clock.setup_end = time.perf_counter()
    x0 = run_steps(denoise, x_t, sampler, plan, clock)
    clock.end = time.perf_counter()
    return Run(total_seconds(clock, sampler, plan), x0[:, :frames], list(mixture.drawn))


def _released_values() -> dict[str, Any]:
    preset = ConditionMixture.released(DATASET)
    return {"coarse_scale": preset.coarse_scale, "weights": preset.weights}


@dataclass
class Method:
    name: str
    sampler: Sampler
    spacing: str
    precision: str = "fp32"


def methods_for(setting: Setting, diffusion: GaussianDiffusion) -> list[Method]:
    ddim = setting.ddim_spacing
    methods = [
        Method(LIBRARY, DDIMSampler(diffusion, ddim), ddim),
        Method(RELEASED, DDIMSampler(diffusion, ddim), ddim),
        Method(LIBRARY_BF16, DDIMSampler(diffusion, ddim), ddim, precision="bf16"),
    ]
    for steps in setting.dpm_steps:
        spacing = f"logsnr{steps}"
        methods.append(
            Method(f"library-dpm++{steps}", DPMSolverPlusPlusSampler(diffusion, spacing), spacing)
        )
    return methods


def bench_case(
    model: SemanticsModulatedTransformer,
    inputs: Inputs,
    methods: list[Method],
    repeats: int,
    budget: float,
    subset: int | None,
    seed: int,
) -> dict[str, dict[str, Any]]:
    """Interleaved repeats (at most `repeats`, fewer once the released runs would take more than
    `budget` seconds) of every method on one case; per-method seconds and checks."""
    warm, warm_coins = _first_sample(inputs), []
    for method in methods:  # warm-up at batch 1: one guided and one fixed-weight step
        plan = step_plan(method.sampler, 1)
        if method.name == RELEASED:
            released_run(model, warm, method.sampler, warm_coins, plan)
        else:
            run = library_run(model, warm, method.sampler, seed, plan, method.precision)
            warm_coins = run.coins if method.name == LIBRARY else warm_coins
    seconds: dict[str, list[float]] = {m.name: [] for m in methods}
    plans = {m.name: step_plan(m.sampler, subset) for m in methods}
    diffs: dict[str, list[float]] = {LIBRARY: [], LIBRARY_BF16: []}
    coins: list[int] | None = None
    for repeat in range(repeats):
        spent = sum(seconds[RELEASED])
        if repeat and spent + spent / repeat > budget:
            break  # one more released run would exceed the budget
        order = methods if repeat % 2 == 0 else methods[::-1]
        if coins is None:  # the released run replays the library run's coins
            order = [m for m in order if m.name == LIBRARY] + [
                m for m in order if m.name != LIBRARY
            ]
        outputs: dict[str, Run] = {}
        for method in order:
            plan = plans[method.name]
            if method.name == RELEASED:
                run = released_run(model, inputs, method.sampler, coins, plan)
            else:
                run = library_run(model, inputs, method.sampler, seed, plan, method.precision)
                if method.name == LIBRARY:
                    coins = run.coins
            outputs[method.name] = run
            seconds[method.name].append(run.seconds)
        if outputs[RELEASED].coins != coins:
            raise AssertionError("the released run did not replay the library run's coins")
        for name in (LIBRARY, LIBRARY_BF16):
            diffs[name].append(float((outputs[name].output - outputs[RELEASED].output).abs().max()))
    results = {}
    for method in methods:
        plan = plans[method.name]
        results[method.name] = {
            "sampler": type(method.sampler).__name__,
            "spacing": method.spacing,
            "steps": method.sampler.num_steps,
            "steps_timed": method.sampler.num_steps if plan is None else len(plan),
            "extrapolated": plan is not None,
            "timed_step_indices": plan,
            "runs_seconds": seconds[method.name],
            "seconds": statistics.median(seconds[method.name]),
            "min_seconds": min(seconds[method.name]),
        }
    scale = float(outputs[RELEASED].output.abs().max())
    for name, values in diffs.items():
        results[name]["max_abs_diff_vs_released"] = max(values)
        results[name]["relative_diff_vs_released"] = max(values) / scale
    return results


def _first_sample(inputs: Inputs) -> Inputs:
    return Inputs(**{name: value[:1] for name, value in vars(inputs).items()})


def run_benchmark(args: argparse.Namespace) -> dict[str, Any]:
    torch.set_num_threads(args.threads)
    setting = QUICK if args.quick else FULL
    diffusion = GaussianDiffusion()
    methods = methods_for(setting, diffusion)
    load_before = os.getloadavg()
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    for size in sizes:
        config, encoder = model_config(size, setting.quick)
        model = random_model(config, args.seed)
        for length in setting.lengths:
            per_motion_released: float | None = None  # from this length's batch-1 case
            for batch in sorted(setting.batches):
                inputs = random_inputs(config, encoder, batch, length, args.seed)
                load = os.getloadavg()[0]
                estimate = None if per_motion_released is None else per_motion_released * batch
                subset = None
                if estimate is not None and estimate > args.budget and not args.full:
                    subset = args.subset_steps
                print(
                    f"[{time.perf_counter() - started:7.1f}s] {size} batch {batch} length {length}"
                    f" (load {load:.2f})"
                    + (f": {subset} guided + {subset} fixed steps timed" if subset else ""),
                    flush=True,
                )
                budget = math.inf if args.full else args.budget
                results = bench_case(
                    model, inputs, methods, args.repeats, budget, subset, args.seed
                )
                released = results[RELEASED]["seconds"]
                library = results[LIBRARY]["seconds"]
                if batch == min(setting.batches):
                    per_motion_released = released / batch
                for name, result in results.items():
                    rows.append(
                        {
                            "size": size,
                            "text_tokens": encoder,
                            "batch": batch,
                            "length": length,
                            "padded_to": config.max_length if name == RELEASED else length,
                            "method": name,
                            "load_average_at_start": load,
                            **result,
                            "seconds_per_motion": result["seconds"] / batch,
                            "speedup_vs_released": released / result["seconds"],
                            "speedup_vs_library_ddim": library / result["seconds"],
                        }
                    )
    diffs = [r["max_abs_diff_vs_released"] for r in rows if r["method"] == LIBRARY]
    paper = [
        r["speedup_vs_released"] for r in rows if r["size"] == "paper" and r["method"] == LIBRARY
    ]
    paper_bf16 = [
        r["speedup_vs_released"]
        for r in rows
        if r["size"] == "paper" and r["method"] == LIBRARY_BF16
    ]
    bf16_diffs = [r["relative_diff_vs_released"] for r in rows if r["method"] == LIBRARY_BF16]
    return {
        "benchmark": "sampling: library path vs released sampler (random weights)",
        "quick": setting.quick,
        **machine_facts(),
        "load_average_before": list(load_before),
        "load_average_after": list(os.getloadavg()),
        "wall_seconds": time.perf_counter() - started,
        "mixture": f"released ({DATASET})",
        "ddim_spacing": setting.ddim_spacing,
        "tolerance": TOLERANCE,
        "budget_seconds": None if args.full else args.budget,
        "subset_steps": args.subset_steps,
        "model_configs": {s: model_config(s, setting.quick)[0].to_dict() for s in sizes},
        "paper_min_speedup": min(paper) if paper else None,
        "paper_min_speedup_bf16": min(paper_bf16) if paper_bf16 else None,
        "bf16_max_relative_diff": max(bf16_diffs),
        "max_abs_diff": max(diffs),
        "outputs_match": max(diffs) <= TOLERANCE,
        "rows": rows,
    }


def machine_facts() -> dict[str, Any]:
    """What the timings depend on besides the code: threads, wait policy, versions, cores."""
    return {
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
    }


def write_report(report: dict[str, Any], out: Path | None) -> None:
    """Write the report as JSON to out (if given)."""
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n")


def markdown(report: dict[str, Any]) -> str:
    lines = [
        f"torch {report['torch']}, torch threads: {report['torch_threads']}, "
        f"OMP_WAIT_POLICY={report['omp_wait_policy']}, "
        f"load average {report['load_average_before'][0]:.2f} before / "
        f"{report['load_average_after'][0]:.2f} after, {report['wall_seconds']:.0f} s wall"
        + (" (QUICK: tiny sizes, not a measurement)" if report["quick"] else ""),
        "",
        "| size | batch | frames | method | steps (timed) | s/motion | vs released "
        "| vs library DDIM | max abs diff |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for row in report["rows"]:
        timed = f"{row['steps']}" + (
            f" ({row['steps_timed']}, extrapolated)" if row["extrapolated"] else ""
        )
        diff = row.get("max_abs_diff_vs_released")
        frames = f"{row['length']}" + (
            f" (pad {row['padded_to']})" if row["padded_to"] != row["length"] else ""
        )
        lines.append(
            f"| {row['size']} | {row['batch']} | {frames} | {row['method']} | {timed} "
            f"| {row['seconds_per_motion']:.3f} | {row['speedup_vs_released']:.2f}x "
            f"| {row['speedup_vs_library_ddim']:.2f}x "
            f"| {'' if diff is None else f'{diff:.1e}'} |"
        )
    lines += [
        "",
        f"library DDIM vs released at the paper size: at least {report['paper_min_speedup']:.2f}x "
        f"faster (aim 2x: {'met' if report['paper_min_speedup'] >= 2 else 'NOT met'})"
        if report["paper_min_speedup"] is not None
        else "paper size not run",
        f"bf16 library DDIM vs released at the paper size: at least "
        f"{report['paper_min_speedup_bf16']:.2f}x faster (aim 1/0.35 = 2.86x: "
        f"{'met' if report['paper_min_speedup_bf16'] >= 1 / 0.35 else 'NOT met'}); its largest "
        f"difference from the fp32 output is {report['bf16_max_relative_diff']:.1%} of the "
        "output's range"
        if report["paper_min_speedup_bf16"] is not None
        else "",
        f"outputs equal within {report['tolerance']:g} on the valid frames: "
        f"{'yes' if report['outputs_match'] else 'NO'} (max abs diff "
        f"{report['max_abs_diff']:.1e}); extrapolated rows time {report['subset_steps']} guided "
        f"+ {report['subset_steps']} fixed-weight steps and scale each kind to the schedule",
    ]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, help="write the JSON report here")
    parser.add_argument("--quick", action="store_true", help="tiny sizes and steps (smoke test)")
    parser.add_argument("--sizes", default="paper,small", help="comma-separated: paper, small")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    parser.add_argument("--repeats", type=int, default=3, help="most runs per method and case")
    parser.add_argument(
        "--budget",
        type=float,
        default=60.0,
        help="seconds of released runs per case; above it fewer repeats, then a step subset",
    )
    parser.add_argument(
        "--subset-steps", type=int, default=2, help="guided and fixed steps timed per kind"
    )
    parser.add_argument("--full", action="store_true", help="never extrapolate (slow)")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    report = run_benchmark(args)
    write_report(report, args.out)
    print(markdown(report))
    if not report["outputs_match"]:  # after writing the report, so the timings are kept
        raise AssertionError(
            f"library and released DDIM outputs differ by {report['max_abs_diff']:.3g} "
            f"> {TOLERANCE} on the valid frames"
        )
    return report


if __name__ == "__main__":
    main()
