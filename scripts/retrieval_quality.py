"""Retrieval quality vs lambda on the synthetic dataset (the analogue of the paper's Figure 6).

The paper scores retrieved motions by FID for several lambda (Eq. 4 balances caption similarity
against the length term exp(-lam * |l_i - L| / max(l_i, L))). The synthetic dataset knows what each
motion shows, so here the retrieved motions are scored directly: how often they share the query
motion's action primitives (any label, Jaccard overlap of the label sets, same first primitive,
the same primitive sequence in order), how close their lengths are to the query length, and how
often two of a query's k neighbours are captions of one motion. A baseline row scores random
database entries. --distinct-motions retrieves k distinct motions (retrieval.distinct_motions),
--key ordered compares order-aware pooled token features (retrieval.key, `retrieval.keys`).

Two query groups: the captions of --split (test) against the train-split database with nothing
excluded (as evaluation retrieves), and the train captions against the same database with their
own motion excluded by id (as training retrieves). The test captions are also split by rareness
(paper Eq. 7, sentence features against the train captions): the rarest --tail-fraction (the
captions tail-5 % MM averages over) and the rest are scored separately. Writes JSON
(--out-json), a two-panel PNG (--out-png) and prints Markdown tables.

    python scripts/retrieval_quality.py --root /tmp/rq/synthetic \
        --out-json /tmp/rq/retrieval_quality.json --out-png /tmp/rq/retrieval_quality.png

Primitive labels are the motion's top-level primitives (arm gestures overlaid on a primitive are
not counted).
"""

import argparse
import json
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from remodiffuse.data import TextMotionDataset  # noqa: E402
from remodiffuse.data.synthetic import ensure_synthetic_dataset, read_metadata  # noqa: E402
from remodiffuse.metrics import rareness, tail_items  # noqa: E402
from remodiffuse.retrieval import RetrievalConfig, RetrievalDatabase, retrieval_keys  # noqa: E402
from remodiffuse.retrieval.config import KEY_KINDS  # noqa: E402
from remodiffuse.text import build_text_encoder, cached_text_features  # noqa: E402

log = logging.getLogger("retrieval_quality")

DEFAULT_LAMS = "0,0.05,0.1,0.5,1,2"
BASELINE_DRAWS = 32  # random database entries per query for the baseline row
FRACTION_KEYS = (
    "share_any_primitive",
    "primitive_jaccard",
    "same_first_primitive",
    "same_sequence",
    "relative_length_gap",
)
COLUMNS = (
    ("share_any_primitive", "share any", "{:.3f}"),
    ("primitive_jaccard", "Jaccard", "{:.3f}"),
    ("same_first_primitive", "same first", "{:.3f}"),
    ("same_sequence", "same sequence", "{:.3f}"),
    ("repeated_motion", "one motion twice", "{:.3f}"),
    ("relative_length_gap", "rel. length gap", "{:.3f}"),
    ("abs_length_gap_frames", "length gap (frames)", "{:.1f}"),
    ("mean_cosine", "caption cosine", "{:.3f}"),
)
TAIL_COLUMNS = (
    ("same_sequence", "same sequence"),
    ("same_first_primitive", "same first"),
    ("primitive_jaccard", "Jaccard"),
    ("mean_cosine", "caption cosine"),
)


def parse_lams(text: str) -> list[float]:
    """'0,0.05,0.1' -> [0.0, 0.05, 0.1] (non-negative, distinct, in the given order)."""
    lams = [float(part) for part in text.split(",") if part.strip()]
    if not lams or any(lam < 0 for lam in lams) or len(set(lams)) != len(lams):
        raise argparse.ArgumentTypeError(f"need distinct non-negative lambdas, got {text!r}")
    return lams


def parse_fraction(text: str) -> float:
    """'0.05' -> 0.05, a fraction strictly between 0 and 1."""
    fraction = float(text)
    if not 0.0 < fraction < 1.0:
        raise argparse.ArgumentTypeError(f"need a fraction in (0, 1), got {text!r}")
    return fraction


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--root",
        type=Path,
        default=Path("data/synthetic"),
        help="synthetic dataset directory (generated when missing or stale)",
    )
    parser.add_argument("--num-motions", type=int, default=2000)
    parser.add_argument(
        "--seed", type=int, default=0, help="dataset seed, also seeds the random baseline"
    )
    parser.add_argument(
        "--cache-dir", type=Path, default=None, help="text-feature cache (default <root>/../cache)"
    )
    parser.add_argument("--k", type=int, default=2, help="motions retrieved per query")
    parser.add_argument(
        "--distinct-motions", action="store_true", help="k distinct motions per query"
    )
    parser.add_argument("--key", choices=KEY_KINDS, default="sentence", help="retrieval key")
    parser.add_argument("--key-parts", type=int, default=3, help="chunks of --key ordered")
    parser.add_argument("--lams", type=parse_lams, default=parse_lams(DEFAULT_LAMS))
    parser.add_argument("--split", default="test", help="split whose captions query the database")
    parser.add_argument(
        "--tail-fraction",
        type=parse_fraction,
        default=0.05,
        help="rarest share of --split's captions",
    )
    parser.add_argument("--out-json", type=Path, default=Path("retrieval_quality.json"))
    parser.add_argument("--out-png", type=Path, default=Path("retrieval_quality.png"))
    return parser.parse_args(argv)


def caption_table(dataset: TextMotionDataset) -> tuple[list[str], list[str], np.ndarray]:
    """Per caption of the split, in caption order: captions, motion ids, (N,) lengths."""
    captions, ids, lengths = [], [], []
    for entry in dataset.caption_entries():
        captions.append(entry["caption"])
        ids.append(entry["motion_id"])
        lengths.append(entry["length"])
    return captions, ids, np.asarray(lengths, np.int64)


def label_matrix(
    motion_ids: Sequence[str], motions: dict[str, dict], labels: list[str], sequences: dict
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(N, P) bool: motion uses primitive label p; (N,) int64 index of its first primitive;
    (N,) int64 code of its label sequence (codes shared through `sequences` across splits)."""
    column = {label: p for p, label in enumerate(labels)}
    uses = np.zeros((len(motion_ids), len(labels)), bool)
    first = np.empty(len(motion_ids), np.int64)
    sequence = np.empty(len(motion_ids), np.int64)
    for row, motion_id in enumerate(motion_ids):
        primitives = motions[motion_id]["primitives"]
        uses[row, [column[p["label"]] for p in primitives]] = True
        first[row] = column[primitives[0]["label"]]
        order = tuple(p["label"] for p in primitives)
        sequence[row] = sequences.setdefault(order, len(sequences))
    return uses, first, sequence


def pair_metrics(
    query: dict[str, np.ndarray], database: dict[str, np.ndarray], pairs: np.ndarray, keep: Any
) -> dict[str, float]:
    """Mean primitive overlap and length gap over pairs (Q, R) of database entries per query;
    `keep` (Q, R) bool (or True) selects the pairs that count."""
    keep = np.broadcast_to(keep, pairs.shape)
    q_uses = query["uses"][:, None, :]  # (Q, 1, P)
    d_uses = database["uses"][pairs]  # (Q, R, P)
    common = (q_uses & d_uses).sum(-1)  # (Q, R)
    union = (q_uses | d_uses).sum(-1)  # (Q, R), >= 1: every motion has a primitive
    q_len = query["lengths"][:, None].astype(np.float64)  # (Q, 1)
    d_len = database["lengths"][pairs].astype(np.float64)  # (Q, R)
    gap = np.abs(d_len - q_len)
    values = {
        "share_any_primitive": common > 0,
        "primitive_jaccard": common / union,
        "same_first_primitive": database["first"][pairs] == query["first"][:, None],
        "same_sequence": database["sequence"][pairs] == query["sequence"][:, None],
        "relative_length_gap": gap / np.maximum(d_len, q_len),
        "abs_length_gap_frames": gap,
    }
    return {name: float(np.mean(value[keep])) for name, value in values.items()}


def repeated_motion_rate(ids: np.ndarray) -> float:
    """Fraction of queries (rows of (Q, k) motion ids) holding one motion more than once."""
    ordered = np.sort(ids, axis=1)
    return float((ordered[:, 1:] == ordered[:, :-1]).any(axis=1).mean())


def evaluate_group(
    db: RetrievalDatabase,
    database: dict[str, np.ndarray],
    query: dict[str, np.ndarray],
    lams: Sequence[float],
    k: int,
    exclude: str,
    rng: np.random.Generator,
    tail: np.ndarray | None = None,
) -> dict[str, Any]:
    """Metrics of the top-k retrieved entries per lambda, and of random entries (baseline);
    with `tail` (Q,) bool, each lambda also scores the tail queries and the rest separately."""
    exclude_ids = list(query["ids"]) if exclude == "id" else None
    rows = []
    for lam in lams:
        started = time.perf_counter()
        found, _ = db.query(
            query["features"],
            query["lengths"],
            k=k,
            lam=lam,
            exclude_ids=exclude_ids,
            exclude=exclude,
        )
        cosine = np.einsum("qd,qkd->qk", query["features"], database["features"][found])
        row = {
            "lam": float(lam),
            **pair_metrics(query, database, found, True),
            "repeated_motion": repeated_motion_rate(database["ids"][found]),
            "mean_cosine": float(cosine.mean(dtype=np.float64)),
        }
        if tail is not None:
            for name, part in (("tail", tail), ("rest", ~tail)):
                row[name] = {
                    **pair_metrics(query, database, found, part[:, None]),
                    "mean_cosine": float(cosine[part].mean(dtype=np.float64)),
                }
        rows.append(row)
        log.info(
            "lam=%g: %d queries in %.1f s", lam, len(query["ids"]), time.perf_counter() - started
        )
    draws = rng.integers(0, len(db), (len(query["ids"]), BASELINE_DRAWS))  # (Q, R)
    keep = True
    if exclude == "id":
        keep = database["ids"][draws] != query["ids"][:, None]
    cosine = np.einsum("qd,qrd->qr", query["features"], database["features"][draws])
    baseline = {
        **pair_metrics(query, database, draws, keep),
        "repeated_motion": repeated_motion_rate(database["ids"][draws[:, :k]]),
        "mean_cosine": float(cosine[np.broadcast_to(keep, draws.shape)].mean()),
    }
    group = {
        "exclude": exclude,
        "num_queries": len(query["ids"]),
        "num_query_motions": len(set(query["ids"].tolist())),
        "by_lam": rows,
        "random_baseline": baseline,
    }
    if tail is not None:
        # the best any retrieval could do: the query's primitive sequence is in the database
        present = np.isin(query["sequence"], database["sequence"])  # (Q,)
        group["num_tail_queries"] = int(tail.sum())
        group["sequence_in_database"] = {
            "all": float(present.mean()),
            "tail": float(present[tail].mean()),
            "rest": float(present[~tail].mean()),
        }
    return group


def rarest(rare: np.ndarray, fraction: float) -> np.ndarray:
    """(Q,) bool marking the items tail-5 % MM averages over (`tail_items`)."""
    tail = np.zeros(len(rare), bool)
    tail[tail_items(rare, fraction)] = True
    return tail


def table_lines(title: str, header: list[str], rows: list[list[str]]) -> list[str]:
    """A bold-titled Markdown table with right-aligned columns, as lines."""
    lines = [
        title,
        "",
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---:" for _ in header) + "|",
    ]
    return lines + ["| " + " | ".join(cells) + " |" for cells in rows]


def markdown_table(name: str, group: dict[str, Any]) -> str:
    title = (
        f"**{name}** ({group['num_queries']} captions of {group['num_query_motions']} motions, "
        f"exclude={group['exclude']})"
    )
    labelled = [(f"{r['lam']:g}", r) for r in group["by_lam"]]
    rows = [
        [label, *(fmt.format(row[key]) for key, _, fmt in COLUMNS)]
        for label, row in [*labelled, ("random", group["random_baseline"])]
    ]
    return "\n".join(table_lines(title, ["lam", *(heading for _, heading, _ in COLUMNS)], rows))


def tail_table(name: str, group: dict[str, Any], fraction: float) -> str:
    """Markdown: per lambda, the rarest queries' neighbour metrics next to the rest's."""
    header = ["lam"]
    for _, title in TAIL_COLUMNS:
        header += [f"{title}, rarest", f"{title}, rest"]
    title = (
        f"**{name}, rarest {fraction:.0%}** ({group['num_tail_queries']} of "
        f"{group['num_queries']} captions by Eq. 7 rareness) **vs the rest**"
    )
    rows = []
    for row in group["by_lam"]:
        cells = [f"{row['lam']:g}"]
        for key, _ in TAIL_COLUMNS:
            cells += [f"{row['tail'][key]:.3f}", f"{row['rest'][key]:.3f}"]
        rows.append(cells)
    present = group["sequence_in_database"]
    lines = table_lines(title, header, rows) + [
        "",
        f"Queries whose primitive sequence is in the database at all: rarest "
        f"{present['tail']:.3f}, rest {present['rest']:.3f}.",
    ]
    return "\n".join(lines)


def plot(results: dict[str, Any], path: Path) -> None:
    """Two panels over categorical lambda: primitive overlap, and length gap."""
    lams = results["lams"]
    x = np.arange(len(lams))
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.6))
    frames_axis = right.twinx()
    styles = {0: "-", 1: "--"}
    overlap = (
        ("share_any_primitive", "share any", "tab:blue"),
        ("primitive_jaccard", "Jaccard", "tab:orange"),
        ("same_first_primitive", "same first", "tab:green"),
    )
    for number, (name, group) in enumerate(results["groups"].items()):
        style = styles[number % 2]
        rows = group["by_lam"]
        for key, title, colour in overlap:
            left.plot(
                x,
                [r[key] for r in rows],
                style,
                marker="o",
                color=colour,
                label=f"{title} ({name})",
            )
            if number == 0:
                left.axhline(
                    group["random_baseline"][key], color=colour, linestyle=":", linewidth=1
                )
        right.plot(
            x,
            [r["relative_length_gap"] for r in rows],
            style,
            marker="o",
            color="tab:red",
            label=f"|l-L|/max(l,L) ({name})",
        )
        frames_axis.plot(
            x,
            [r["abs_length_gap_frames"] for r in rows],
            style,
            marker="s",
            color="tab:purple",
            alpha=0.6,
            label=f"|l-L| frames ({name})",
        )
    for axis in (left, right):
        axis.set_xticks(x, [f"{lam:g}" for lam in lams])
        axis.set_xlabel("lambda")
        axis.grid(alpha=0.3)
    left.set_ylim(0, 1.02)
    left.set_ylabel("fraction / mean Jaccard of retrieved motions")
    left.set_title("Primitive overlap with the query motion (dotted: random, first group)")
    left.legend(fontsize=7, loc="lower left")
    right.set_ylim(bottom=0)
    frames_axis.set_ylim(bottom=0)
    right.set_ylabel("mean relative length gap")
    frames_axis.set_ylabel("mean length gap (frames)")
    right.set_title("Length gap of retrieved motions")
    handles = right.get_legend_handles_labels()
    extra = frames_axis.get_legend_handles_labels()
    right.legend(handles[0] + extra[0], handles[1] + extra[1], fontsize=7, loc="upper right")
    figure.suptitle(
        f"Retrieval quality vs lambda (k={results['k']}, "
        f"{results['num_motions']} synthetic motions)"
    )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the analysis, write the JSON and PNG, print the tables; returns the results."""
    args = parse_args(argv)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(message)s")
    root = ensure_synthetic_dataset(args.root, args.num_motions, args.seed)
    cache_dir = args.cache_dir if args.cache_dir is not None else root.parent / "cache"
    metadata = read_metadata(root)
    labels = list(metadata["primitive_labels"])
    encoder = build_text_encoder("minilm")
    config = RetrievalConfig(
        num_retrieval=args.k,
        distinct_motions=args.distinct_motions,
        key=args.key,
        key_parts=args.key_parts,
    )
    db, tables, sequences, sentences = None, {}, {}, {}
    for split in dict.fromkeys(["train", args.split]):
        captions, ids, lengths = caption_table(TextMotionDataset(root, split))
        cached = cached_text_features(encoder, captions, cache_dir)
        features = retrieval_keys(config, cached.sentence, cached.tokens, cached.mask)
        sentences[split] = cached.sentence
        uses, first, sequence = label_matrix(ids, metadata["motions"], labels, sequences)
        tables[split] = {
            "ids": np.asarray(ids),
            "lengths": lengths,
            "features": features,
            "uses": uses,
            "first": first,
            "sequence": sequence,
        }
        if split == "train":
            db = RetrievalDatabase.build(
                ids,
                captions,
                features,
                lengths,
                encoder.identity,
                config=config,
            )
    rng = np.random.default_rng(args.seed)
    train = tables["train"]
    rare = rareness(sentences[args.split], sentences["train"])  # (Q,)
    tail = rarest(rare, args.tail_fraction)
    query = tables[args.split]
    groups = {
        args.split: evaluate_group(db, train, query, args.lams, args.k, "none", rng, tail),
        "train_self": evaluate_group(db, train, train, args.lams, args.k, "id", rng),
    }
    results = {
        "description": "retrieved-motion quality vs lambda of Eq. 4 on the synthetic dataset: "
        "fractions/means over every (query caption, retrieved entry) pair",
        "root": str(root),
        "num_motions": args.num_motions,
        "seed": args.seed,
        "k": args.k,
        "distinct_motions": args.distinct_motions,
        "key": args.key,
        "key_parts": args.key_parts if args.key == "ordered" else None,
        "lams": [float(lam) for lam in args.lams],
        "split": args.split,
        "tail_fraction": args.tail_fraction,
        "tail_min_rareness": float(rare[tail].min()),
        "database": {
            "split": "train",
            "num_entries": len(db),
            "num_motions": len(set(train["ids"].tolist())),
        },
        "text_encoder": encoder.name,
        "baseline_draws_per_query": BASELINE_DRAWS,
        "groups": groups,
    }
    args.out_json.parent.mkdir(parents=True, exist_ok=True)
    args.out_json.write_text(json.dumps(results, sort_keys=True, indent=2) + "\n")
    plot(results, args.out_png)
    tables_md = [markdown_table(name, group) for name, group in groups.items()]
    tables_md.append(tail_table(args.split, groups[args.split], args.tail_fraction))
    print("\n\n".join(tables_md))
    print(f"\nwrote {args.out_json} and {args.out_png}")
    return results


if __name__ == "__main__":
    main()
