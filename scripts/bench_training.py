"""Benchmark training iterations: fp32 against bf16 autocast, side by side in one run.

One iteration is what `DiffusionStage` does per step: encode the conditions (prompt transformer,
retrieved-motion and retrieved-caption encoders, trained with the model), noise the motions at
random timesteps, predict x0, the masked MSE, backward, and an Adam step. Paper size
(conf/model/remodiffuse.yaml, CLIP-width tokens), batch 16, motion lengths drawn in 40..196 and
padded to 196 with a mask, random weights and inputs. fp32 is the released recipe's cost (the
same network and ops); bf16 runs the forward pass under bf16 autocast (weights, gradients and
Adam stay fp32: Lightning's `trainer.precision=bf16-mixed`). Runs alternate between the two
precisions; the ratio is that of the medians. The first iterations of each are a warm-up.

    .venv/bin/python scripts/bench_training.py --out bench_training.json
    .venv/bin/python scripts/bench_training.py --quick --out /tmp/bench_training.json
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as bench_sampling.py: before torch loads

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_sampling import (  # noqa: E402
    Inputs,
    machine_facts,
    model_config,
    random_inputs,
    random_model,
    write_report,
)

from remodiffuse.diffusion import GaussianDiffusion  # noqa: E402
from remodiffuse.motion.masks import length_mask  # noqa: E402

PRECISIONS = ("fp32", "bf16")


def iteration(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    diffusion: GaussianDiffusion,
    inputs: Inputs,
    x0: torch.Tensor,
    lengths: torch.Tensor,
    precision: str,
    generator: torch.Generator,
) -> float:
    """One training step; returns the loss."""
    batch = x0.shape[0]
    t = diffusion.sample_timesteps(batch, generator=generator)  # (B,)
    noise = torch.randn(x0.shape, generator=generator)  # (B, T, D)
    switches = torch.rand(batch, 2, generator=generator) >= 0.1  # (B, 2) text, retrieval on
    mask = length_mask(lengths, x0.shape[1])  # (B, T)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
        conditions = inputs.encode(model)
        x_t = diffusion.q_sample(x0, t, noise)  # (B, T, D)
        x0_pred = model(x_t, t, conditions, switches[:, 0], switches[:, 1], mask)  # (B, T, D)
    loss = GaussianDiffusion.training_loss(x0_pred.float(), x0, mask)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return float(loss.detach())


def run_benchmark(args: argparse.Namespace) -> dict[str, Any]:
    torch.set_num_threads(args.threads)
    config, encoder = model_config("paper", args.quick)
    frames = config.max_length
    shortest = 10 if args.quick else 40
    g = torch.Generator().manual_seed(args.seed)
    lengths = torch.randint(shortest, frames + 1, (args.batch,), generator=g)  # (B,)
    x0 = torch.randn(args.batch, frames, config.input_feats, generator=g)
    x0 = x0 * length_mask(lengths, frames)[..., None]  # (B, T, D), zero after each length
    inputs = random_inputs(config, encoder, args.batch, frames, args.seed)
    diffusion = GaussianDiffusion()
    models = {p: random_model(config, args.seed).train() for p in PRECISIONS}
    optimizers = {p: torch.optim.Adam(m.parameters(), lr=2e-4) for p, m in models.items()}
    load_before = os.getloadavg()
    started = time.perf_counter()
    seconds: dict[str, list[float]] = {p: [] for p in PRECISIONS}
    losses: dict[str, list[float]] = {p: [] for p in PRECISIONS}
    for step in range(args.warmup + args.iterations):
        order = PRECISIONS if step % 2 == 0 else PRECISIONS[::-1]
        for precision in order:
            draws = torch.Generator().manual_seed(args.seed + step)  # both see the same draws
            begin = time.perf_counter()
            loss = iteration(
                models[precision],
                optimizers[precision],
                diffusion,
                inputs,
                x0,
                lengths,
                precision,
                draws,
            )
            if step >= args.warmup:
                seconds[precision].append(time.perf_counter() - begin)
                losses[precision].append(loss)
        print(f"[{time.perf_counter() - started:6.1f}s] iteration {step + 1}", flush=True)
    medians = {p: statistics.median(seconds[p]) for p in PRECISIONS}
    return {
        "benchmark": "training iteration: fp32 vs bf16 autocast (random weights)",
        "quick": args.quick,
        "model_config": config.to_dict(),
        "batch": args.batch,
        "lengths": lengths.tolist(),
        "padded_to": frames,
        **machine_facts(),
        "load_average_before": list(load_before),
        "load_average_after": list(os.getloadavg()),
        "warmup_iterations": args.warmup,
        "runs_seconds": seconds,
        "seconds_per_iteration": medians,
        "losses": losses,
        "bf16_speedup": medians["fp32"] / medians["bf16"],
    }


def markdown(report: dict[str, Any]) -> str:
    seconds = report["seconds_per_iteration"]
    return "\n".join(
        [
            f"torch {report['torch']}, {report['torch_threads']} threads, batch "
            f"{report['batch']} padded to {report['padded_to']} frames, load average "
            f"{report['load_average_before'][0]:.2f} before / "
            f"{report['load_average_after'][0]:.2f} after"
            + (" (QUICK: tiny sizes, not a measurement)" if report["quick"] else ""),
            "",
            "| precision | s/iteration | vs fp32 |",
            "|---|---:|---:|",
            f"| fp32 (released recipe) | {seconds['fp32']:.3f} | 1.00x |",
            f"| bf16 autocast | {seconds['bf16']:.3f} | {report['bf16_speedup']:.2f}x |",
            "",
            f"bf16 vs fp32: {report['bf16_speedup']:.2f}x faster per iteration "
            f"(aim 2x: {'met' if report['bf16_speedup'] >= 2 else 'NOT met'})",
        ]
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, help="write the JSON report here")
    parser.add_argument("--quick", action="store_true", help="tiny model (smoke test)")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--iterations", type=int, default=6, help="timed iterations each")
    parser.add_argument("--warmup", type=int, default=2, help="untimed iterations each")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    report = run_benchmark(args)
    write_report(report, args.out)
    print(markdown(report))
    return report


if __name__ == "__main__":
    main()
