"""Benchmark hybrid retrieval (Eq. 4): numpy brute force vs FAISS flat / IVF / HNSW candidates.

Reports build time, latency per 1,000 queries and recall@2 against the exact hybrid top-2 (the
library's default exact query), on clustered unit vectors (a mixture of Gaussians) and on the real
KIT-ML captions encoded by `remodiffuse.text` (MiniLM). Writes JSON to --out, prints Markdown.

    OMP_WAIT_POLICY=PASSIVE python scripts/bench_retrieval.py --sizes 10k,100k,1m --out bench.json
    python scripts/bench_retrieval.py --quick --out /tmp/bench.json

PASSIVE keeps idle OpenMP (FAISS) threads from spinning while numpy works on the same cores.
"""

import argparse
import json
import math
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from threadpoolctl import threadpool_limits

from remodiffuse.retrieval import RetrievalConfig, RetrievalDatabase
from remodiffuse.text import build_text_encoder

K = 2
LAM = 0.1
NUMPY_QUERY_BLOCK = 32
KIT_ROOT = Path(__file__).resolve().parents[2] / "shared" / "data" / "kitml-text"
KIT_FPS = 12.5
LOW_RANK = 16


@dataclass
class Problem:
    """A database of unit sentence features with lengths, and queries with target lengths."""

    name: str
    ids: list[str]
    features: np.ndarray  # (N, D) float32 unit rows
    lengths: np.ndarray  # (N,)
    queries: np.ndarray  # (Q, D) float32 unit rows
    query_lengths: np.ndarray  # (Q,)


def parse_size(text: str) -> int:
    """'10k' -> 10_000, '1m' -> 1_000_000."""
    text = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("km")) * scale)


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def motion_lengths(rng: np.random.Generator, count: int) -> np.ndarray:
    """Dataset-like lengths: multiples of 4 in [40, 196]."""
    return 4 * rng.integers(10, 50, count)


def clustered_problem(
    size: int, num_queries: int, dim: int, seed: int, covariance: str = "lowrank"
) -> Problem:
    """Mixture of Gaussians, unit-normalised: log-normal cluster weights, varied spreads.

    "lowrank": each cluster spreads mostly along its own random 16-d subspace (plus weak isotropic
    noise), so cosines inside a cluster are graded as for sentence embeddings; "isotropic": plain
    spherical Gaussians, whose high-dimensional noise makes in-cluster cosines nearly equal.
    """
    rng = np.random.default_rng(seed)
    num_clusters = max(10, size // 500)
    centres = unit(rng.standard_normal((num_clusters, dim)))
    weights = rng.lognormal(0.0, 1.0, num_clusters)
    if covariance == "lowrank":
        spreads, isotropic = rng.uniform(0.5, 1.0, num_clusters), np.full(num_clusters, 0.3)
        bases = rng.standard_normal((num_clusters, LOW_RANK, dim)).astype(np.float32)
        bases /= np.linalg.norm(bases, axis=2, keepdims=True)  # near-orthogonal in high dim
    else:
        spreads, isotropic = np.zeros(num_clusters), rng.uniform(0.6, 1.2, num_clusters)

    def sample(count: int) -> np.ndarray:
        cluster = rng.choice(num_clusters, count, p=weights / weights.sum())
        out = np.empty((count, dim), np.float32)  # (count, D)
        for c in np.unique(cluster):
            rows = np.flatnonzero(cluster == c)
            noise = rng.standard_normal((rows.size, dim), dtype=np.float32)
            points = centres[c] + isotropic[c] / math.sqrt(dim) * noise
            if covariance == "lowrank":
                along = rng.standard_normal((rows.size, LOW_RANK), dtype=np.float32)
                points += spreads[c] / math.sqrt(LOW_RANK) * along @ bases[c]
            out[rows] = unit(points)
        return out

    return Problem(
        name=f"clustered ({covariance})",
        ids=[str(i) for i in range(size)],
        features=sample(size),
        lengths=motion_lengths(rng, size),
        queries=sample(num_queries),
        query_lengths=motion_lengths(rng, num_queries),
    )


def kit_problem(limit: int | None) -> Problem:
    """KIT-ML train captions as the database, test captions as queries (MiniLM features)."""
    annotations = json.loads((KIT_ROOT / "annotations.json").read_text())
    encoder = build_text_encoder("minilm")

    def split(name: str) -> tuple[list[str], list[str], np.ndarray]:
        ids, captions, lengths = [], [], []
        for motion_id in (KIT_ROOT / "splits" / f"{name}.txt").read_text().split():
            frames = int(annotations[motion_id]["duration"] * KIT_FPS) // 4 * 4
            for annotation in annotations[motion_id]["annotations"]:
                if frames >= 24 and annotation["text"].strip():
                    ids.append(motion_id)
                    captions.append(annotation["text"].strip())
                    lengths.append(min(frames, 196))
        return ids[:limit], captions[:limit], np.array(lengths[:limit])

    ids, captions, lengths = split("train")
    _, query_captions, query_lengths = split("test")
    return Problem(
        name="kit-ml captions (minilm)",
        ids=ids,
        features=encoder.encode(captions).sentence.numpy(),
        lengths=lengths,
        queries=encoder.encode(query_captions).sentence.numpy(),
        query_lengths=query_lengths,
    )


def numpy_top_k(problem: Problem) -> np.ndarray:
    """Brute force as a user would write it: float32 matmul, Eq. 4 factor, argpartition."""
    found = np.empty((problem.queries.shape[0], K), np.int64)
    lengths = problem.lengths.astype(np.float32)
    for start in range(0, problem.queries.shape[0], NUMPY_QUERY_BLOCK):
        block = slice(start, start + NUMPY_QUERY_BLOCK)
        target = problem.query_lengths[block, None].astype(np.float32)  # (B, 1)
        scores = problem.queries[block] @ problem.features.T  # (B, N)
        scores *= np.exp(-LAM * np.abs(lengths - target) / np.maximum(lengths, target))
        best = np.argpartition(-scores, K - 1, axis=1)[:, :K]  # (B, K)
        order = np.argsort(-np.take_along_axis(scores, best, 1), axis=1, kind="stable")
        found[block] = np.take_along_axis(best, order, 1)
    return found


def recall_at_k(found: np.ndarray, exact: np.ndarray) -> float:
    """Mean fraction of the exact top-k entries that were returned."""
    hits = [len(set(row) & set(truth)) for row, truth in zip(found, exact, strict=True)]
    return float(np.mean(hits)) / exact.shape[1]


def score_recall(problem: Problem, found: np.ndarray, exact_scores: np.ndarray) -> float:
    """Recall where any entry scoring as high as the exact k-th one counts (duplicate captions)."""
    cosine = np.einsum("qkd,qd->qk", problem.features[found], problem.queries).astype(np.float64)
    length = problem.lengths[found]
    target = problem.query_lengths[:, None]
    scores = cosine * np.exp(-LAM * np.abs(length - target) / np.maximum(length, target))
    return float(np.mean(scores >= exact_scores[:, -1:] - 1e-6))


def timed(function: Callable[[], Any], repeats: int) -> tuple[Any, float]:
    """Result of the last call and the fastest wall time in seconds."""
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return result, best


def build(problem: Problem, **config: Any) -> tuple[RetrievalDatabase, float]:
    """A database of the problem's entries and its build time (features checked, indexed)."""
    return timed(
        lambda: RetrievalDatabase.build(
            problem.ids,
            problem.ids,
            problem.features,
            problem.lengths,
            "benchmark",
            config=RetrievalConfig(num_retrieval=K, lam=LAM, use_gpu=False, **config),
        ),
        1,
    )


def bench_problem(problem: Problem, candidates: int) -> list[dict[str, Any]]:
    """Every method on one problem; recall against the exact library query.

    Timings are the best of 3 runs (1 run for the full scans above 100k entries).
    """
    size, num_queries = problem.features.shape[0], problem.queries.shape[0]
    repeats, scan_repeats = 3, 3 if size <= 100_000 else 1
    rows: list[dict[str, Any]] = []

    def record(method: str, setting: str, build_s: float, seconds: float, found: np.ndarray):
        rows.append(
            {
                "data": problem.name,
                "n": size,
                "dim": problem.features.shape[1],
                "queries": num_queries,
                "method": method,
                "setting": setting,
                "build_s": round(build_s, 3),
                "s_per_1k_queries": seconds * 1000 / num_queries,
                "recall_at_2": recall_at_k(found, exact),
                "recall_at_2_ties": score_recall(problem, found, exact_scores),
            }
        )

    database, build_s = build(problem)
    (exact, exact_scores), seconds = timed(
        lambda: database.query(problem.queries, problem.query_lengths, exclude="none"),
        scan_repeats,
    )
    found, numpy_s = timed(lambda: numpy_top_k(problem), scan_repeats)
    record("numpy brute force", "float32 matmul", 0.0, numpy_s, found)
    record("faiss flat", "exact (widening M from 64)", build_s, seconds, exact)
    database.set_search_parameters(exact=False, candidates=candidates)
    found, seconds = timed(lambda: query(database, problem), scan_repeats)
    record("faiss flat", f"M={candidates}", build_s, seconds, found)
    del database

    nlist = 2 ** round(math.log2(math.sqrt(size)))
    database, build_s = build(problem, index="ivf", exact=False, nlist=nlist, candidates=candidates)
    for nprobe in (p for p in (1, 2, 4, 8, 16, 32, 64) if p <= nlist):
        database.set_search_parameters(nprobe=nprobe)
        found, seconds = timed(lambda: query(database, problem), repeats)
        record(
            "faiss ivf",
            f"nlist={nlist} nprobe={nprobe} M={candidates}",
            build_s,
            seconds,
            found,
        )
    del database

    database, build_s = build(
        problem,
        index="hnsw",
        exact=False,
        hnsw_m=32,
        ef_construction=80,
        candidates=candidates,
    )
    for ef_search in (32, 64, 128, 256, 512):
        database.set_search_parameters(ef_search=ef_search)
        found, seconds = timed(lambda: query(database, problem), repeats)
        record("faiss hnsw", f"M=32 efC=80 efSearch={ef_search}", build_s, seconds, found)
    for row in rows:
        row["speedup_vs_numpy"] = numpy_s * 1000 / num_queries / row["s_per_1k_queries"]
    return rows


def query(database: RetrievalDatabase, problem: Problem) -> np.ndarray:
    return database.query(problem.queries, problem.query_lengths, exclude="none")[0]


def markdown(rows: list[dict[str, Any]]) -> str:
    header = (
        "| data | N | method | setting | build (s) | s / 1k queries | speed-up vs numpy "
        "| recall@2 | recall@2 (score ties) |\n|---|---:|---|---|---:|---:|---:|---:|---:|"
    )
    lines = [
        f"| {r['data']} | {r['n']:,} | {r['method']} | {r['setting']} | {r['build_s']:.2f} "
        f"| {r['s_per_1k_queries']:.3f} | {r['speedup_vs_numpy']:.1f}x | {r['recall_at_2']:.4f} "
        f"| {r['recall_at_2_ties']:.4f} |"
        for r in rows
    ]
    return "\n".join([header, *lines])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sizes", default="10k,100k,1m", help="clustered sizes ('' for none)")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--candidates", type=int, default=32, help="M of the approximate runs")
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--threads", type=int, default=2, help="FAISS (OpenMP) and BLAS threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--covariance", choices=["lowrank", "isotropic"], default="lowrank")
    parser.add_argument("--no-real", action="store_true", help="skip the KIT-ML caption part")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (2k entries)")
    parser.add_argument("--out", type=Path, required=True, help="JSON results")
    args = parser.parse_args()
    sizes = [2000] if args.quick else [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    num_queries = 50 if args.quick else args.queries

    faiss.omp_set_num_threads(args.threads)
    load_before = os.getloadavg()
    rows: list[dict[str, Any]] = []
    with threadpool_limits(limits=args.threads):
        for size in sizes:
            problem = clustered_problem(size, num_queries, args.dim, args.seed, args.covariance)
            rows += bench_problem(problem, args.candidates)
            print(f"done: clustered N={size:,}", flush=True)
        if not args.no_real:
            rows += bench_problem(kit_problem(600 if args.quick else None), args.candidates)
    report = {
        "k": K,
        "lam": LAM,
        "threads": args.threads,
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "default"),
        "covariance": args.covariance,
        "load_average_1_5_15min": {"start": load_before, "end": os.getloadavg()},
        "faiss": faiss.__version__,
        "numpy": np.__version__,
        "machine": f"{platform.machine()} {platform.processor()} {platform.platform()}",
        "recall": "fraction of the exact hybrid top-2 (library exact query) returned",
        "results": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(f"\nthreads: faiss {args.threads}, BLAS {args.threads}; k={K} lam={LAM}\n")
    print(markdown(rows))


if __name__ == "__main__":
    main()
