"""Settings of the retrieval database: Eq. 4 parameters, exclusion rule and FAISS index."""

import math
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Literal

from remodiffuse.errors import InputError

IndexKind = Literal["flat", "ivf", "hnsw"]
ExcludeMode = Literal["id", "length", "none"]
KeyKind = Literal["sentence", "ordered"]

INDEX_KINDS: tuple[str, ...] = ("flat", "ivf", "hnsw")
EXCLUDE_MODES: tuple[str, ...] = ("id", "length", "none")
KEY_KINDS: tuple[str, ...] = ("sentence", "ordered")


@dataclass(frozen=True)
class RetrievalConfig:
    """Hybrid retrieval settings; `exact` queries need the flat index (IVF/HNSW are approximate).

    `candidates` is M, the number of FAISS neighbours re-ranked by the full Eq. 4 score (the first
    M of the widening search when `exact`). `exclude` is the rule of the training neighbours.
    `distinct_motions` takes the k best distinct motions (one caption each, the best scored)
    instead of the k best entries, which may be two captions of one motion (released). `key`
    is the vector the cosine compares (`retrieval.keys`): the sentence feature, or `ordered`
    pooling of the token features in `key_parts` chunks.
    """

    num_retrieval: int = 2
    lam: float = 0.1
    exclude: ExcludeMode = "id"
    distinct_motions: bool = False
    key: KeyKind = "sentence"
    key_parts: int = 3
    index: IndexKind = "flat"
    exact: bool = True
    candidates: int = 64
    nlist: int = 1024
    nprobe: int = 16
    hnsw_m: int = 32
    ef_construction: int = 80
    ef_search: int = 128
    use_gpu: bool = True

    def __post_init__(self) -> None:
        check_k(self.num_retrieval)
        check_lam(self.lam)
        check_exclude(self.exclude)
        if self.key not in KEY_KINDS:
            raise InputError(f"key must be one of {KEY_KINDS}, got {self.key!r}")
        _check_positive_int("key_parts", self.key_parts)
        if self.index not in INDEX_KINDS:
            raise InputError(f"index must be one of {INDEX_KINDS}, got {self.index!r}")
        if self.exact and self.index != "flat":
            raise InputError(
                f"exact retrieval needs index='flat'; index={self.index!r} is approximate, "
                "set exact=False to use it"
            )
        for name in ("candidates", "nlist", "nprobe", "ef_construction", "ef_search"):
            _check_positive_int(name, getattr(self, name))
        _check_positive_int("hnsw_m", self.hnsw_m, minimum=2)


def check_k(k: int) -> None:
    """Raise ValueError unless k is a positive integer."""
    _check_positive_int("k (num_retrieval)", k)


def check_lam(lam: float) -> None:
    """Raise ValueError unless lambda is finite and non-negative (Eq. 4 penalises length gaps)."""
    if isinstance(lam, bool) or not isinstance(lam, Real) or not math.isfinite(lam):
        raise InputError(f"lam must be a finite number, got {lam!r}")
    if lam < 0:
        raise InputError(f"lam must be >= 0 (a negative lambda rewards length gaps), got {lam}")


def check_exclude(exclude: str) -> None:
    """Raise ValueError for an unknown exclusion mode."""
    if exclude not in EXCLUDE_MODES:
        raise InputError(f"exclude must be one of {EXCLUDE_MODES}, got {exclude!r}")


def _check_positive_int(name: str, value: int, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise InputError(f"{name} must be an integer >= {minimum}, got {value!r}")
