"""Write the synthetic dataset in the HumanML3D layout, atomically and reproducibly.

    root/new_joint_vecs/ID.npy  (T-1, 263) float32 features
    root/new_joints/ID.npy      (T-1, 22, 3) float32 joints recovered from the features
    root/texts/ID.txt           caption#word/POS ...#0.0#0.0 lines
    root/{train,val,test,all}.txt
    root/Mean.npy, root/Std.npy (263,) statistics of the TRAIN split (as HumanML3D computed its
                                statistics on its training data)
    root/synthetic.json         settings, split sizes and every motion's primitives

The same (num_motions, seed) gives byte-identical files, whatever the number of workers: each
motion has its own child of SeedSequence(seed).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from remodiffuse.data.synthetic.generate import MotionEntry, make_entry
from remodiffuse.data.synthetic.primitives import PRIMITIVES
from remodiffuse.data.writing import SPLIT_FRACTIONS, split_ids
from remodiffuse.files import atomic_directory, output_lock
from remodiffuse.motion import mean_std

__all__ = [
    "GENERATOR_VERSION",
    "METADATA_FILE",
    "ensure_synthetic_dataset",
    "generate_synthetic_dataset",
    "read_metadata",
]

log = logging.getLogger(__name__)

GENERATOR_VERSION = "synthetic-humanml3d-1"  # bump whenever the generated content changes
METADATA_FILE = "synthetic.json"
_PARALLEL_MIN = 64  # fewer motions are generated in-process (worker start-up costs more)


def _motion_id(index: int) -> str:
    return f"{index:06d}"


def _settings(num_motions: int, seed: int) -> dict:
    return {"generator_version": GENERATOR_VERSION, "num_motions": num_motions, "seed": seed}


def _seeds(num_motions: int, seed: int) -> tuple[list[np.random.SeedSequence], np.random.Generator]:
    """Per-motion seeds and a generator for the split, all children of SeedSequence(seed)."""
    children = np.random.SeedSequence(seed).spawn(num_motions + 1)
    return children[:num_motions], np.random.default_rng(children[-1])


def _write_entry(root: Path, index: int, entry: MotionEntry) -> None:
    name = _motion_id(index)
    np.save(root / "new_joint_vecs" / f"{name}.npy", entry.features)
    np.save(root / "new_joints" / f"{name}.npy", entry.joints)
    (root / "texts" / f"{name}.txt").write_text(
        "\n".join(entry.caption_lines) + "\n", encoding="utf-8"
    )


def _generate_and_write(job: tuple[str, int, np.random.SeedSequence]) -> tuple[dict, int]:
    """Worker: make motion `index`, write its three files, return (metadata, rejected)."""
    root, index, seed = job
    entry = make_entry(seed)
    _write_entry(Path(root), index, entry)
    return entry.metadata, entry.rejected


def _limit_torch_threads() -> None:
    """Worker initialiser: one thread each (the parallelism is across processes)."""
    import torch

    torch.set_num_threads(1)


def _run_jobs(jobs: list[tuple[str, int, np.random.SeedSequence]], workers: int) -> list:
    """Results of _generate_and_write in job order, in-process or over `workers` processes.

    Worker processes are spawned; if they cannot start (e.g. a calling script without a
    `__main__` guard), everything is redone in-process, which writes the same bytes.
    """
    if workers > 1 and len(jobs) >= _PARALLEL_MIN:
        context = get_context("spawn")
        try:
            with ProcessPoolExecutor(
                workers, mp_context=context, initializer=_limit_torch_threads
            ) as pool:
                return list(_logged(pool.map(_generate_and_write, jobs, chunksize=16), len(jobs)))
        except BrokenProcessPool:
            log.warning("synthetic dataset: worker processes failed; generating in-process")
    return list(_logged(map(_generate_and_write, jobs), len(jobs)))


def _logged(results: Iterator, total: int) -> Iterator:
    """Pass results through, logging progress every tenth."""
    step = max(total // 10, 1)
    for done, result in enumerate(results, start=1):
        if done % step == 0 or done == total:
            log.info("synthetic dataset: %d / %d motions", done, total)
        yield result


def _write_dataset(root: Path, num_motions: int, seed: int, workers: int) -> dict:
    """Write every file of the dataset into the empty directory `root`; returns the metadata."""
    for sub in ("new_joint_vecs", "new_joints", "texts"):
        (root / sub).mkdir(parents=True)
    seeds, split_rng = _seeds(num_motions, seed)
    jobs = [(str(root), i, s) for i, s in enumerate(seeds)]
    motions: dict[str, dict] = {}
    rejected = 0
    for index, (metadata, dropped) in enumerate(_run_jobs(jobs, workers)):
        motions[_motion_id(index)] = metadata
        rejected += dropped

    ids = sorted(motions)
    splits = split_ids(ids, split_rng)
    for name, part in {**splits, "all": ids}.items():
        (root / f"{name}.txt").write_text("".join(f"{i}\n" for i in part), encoding="utf-8")
    for name, part in splits.items():
        for motion_id in part:
            motions[motion_id]["split"] = name
    train = [np.load(root / "new_joint_vecs" / f"{i}.npy") for i in splits["train"] or ids]
    mean, std = mean_std(train, "humanml3d")
    np.save(root / "Mean.npy", mean.astype(np.float32))
    np.save(root / "Std.npy", std.astype(np.float32))

    counts = Counter(p["label"] for m in motions.values() for p in m["primitives"])
    metadata = {
        **_settings(num_motions, seed),
        "fps": 20,
        "skeleton": "humanml3d",
        "statistics": "Mean/Std over the train split (reference cal_mean_variance)",
        "split_fractions": SPLIT_FRACTIONS,
        "splits": {name: len(part) for name, part in splits.items()},
        "rejected": rejected,
        "primitive_labels": [p.label for p in PRIMITIVES],
        "primitive_counts": {label: counts.get(label, 0) for label in sorted(counts)},
        "motions": motions,
    }
    text = json.dumps(metadata, sort_keys=True, indent=1)
    (root / METADATA_FILE).write_text(text + "\n", encoding="utf-8")
    return metadata


def read_metadata(root: str | Path) -> dict | None:
    """The dataset's synthetic.json, or None when absent or unreadable."""
    path = Path(root) / METADATA_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def generate_synthetic_dataset(
    root: str | Path, num_motions: int = 2000, seed: int = 0, workers: int | None = None
) -> Path:
    """(Re)generate the dataset at `root`; returns its absolute path.

    Files are written to a temporary sibling directory that is renamed into place at the end, so
    an interrupted run never leaves a partial dataset at `root`. `workers` defaults to
    min(2, CPU count) processes.
    """
    if num_motions < 1:
        raise ValueError(f"num_motions must be >= 1, got {num_motions}")
    if workers is None:
        workers = min(2, os.cpu_count() or 1)
    root = Path(root).expanduser().resolve()
    start = time.perf_counter()
    log.info("generating %d synthetic motions (seed %d) at %s", num_motions, seed, root)
    with output_lock(root), atomic_directory(root) as staging:
        metadata = _write_dataset(staging, num_motions, seed, workers)
    log.info(
        "synthetic dataset ready at %s in %.1f s: %s (%d rejected draws)",
        root, time.perf_counter() - start, metadata["splits"], metadata["rejected"],
    )  # fmt: skip
    return root


def ensure_synthetic_dataset(root: str | Path, num_motions: int = 2000, seed: int = 0) -> Path:
    """The synthetic dataset at `root`: reused when its synthetic.json matches the settings,
    generated when missing or stale. Refuses to replace a non-empty directory that is not a
    synthetic dataset."""
    root = Path(root).expanduser().resolve()
    metadata = read_metadata(root)
    wanted = _settings(num_motions, seed)
    if metadata is not None and {k: metadata.get(k) for k in wanted} == wanted:
        log.info("reusing synthetic dataset at %s (%d motions, seed %d)", root, num_motions, seed)
        return root
    if metadata is None and root.is_dir() and any(root.iterdir()):
        raise FileExistsError(
            f"{root} exists and is not a synthetic dataset (no readable {METADATA_FILE}); "
            "choose another directory or remove it"
        )
    if metadata is None:
        log.info("no synthetic dataset at %s: generating it", root)
    else:
        found = {k: metadata.get(k) for k in wanted}
        log.info("synthetic dataset at %s is stale (%s, wanted %s): regenerating", root, found,
                 wanted)  # fmt: skip
    return generate_synthetic_dataset(root, num_motions, seed)
