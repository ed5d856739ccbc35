"""Hybrid retrieval database (paper section 3.3, Eq. 4) over FAISS.

`RetrievalDatabase` holds one entry per training caption (motion id, caption, unit sentence
feature, motion length, its motion and caption token features) and returns the top-k entries of
s_i = cos(f_i, f_p) * exp(-lam * |l_i - L| / max(l_i, L)), exactly by default. Why training
excludes the item's own motion by id rather than by length: docs/retrieval.md.
"""

from remodiffuse.retrieval.config import RetrievalConfig
from remodiffuse.retrieval.database import RetrievalDatabase
from remodiffuse.retrieval.index import CandidateIndex, gpu_available
from remodiffuse.retrieval.keys import retrieval_keys
from remodiffuse.retrieval.scoring import hybrid_scores, length_factor, top_k

__all__ = [
    "RetrievalDatabase",
    "RetrievalConfig",
    "CandidateIndex",
    "gpu_available",
    "retrieval_keys",
    "hybrid_scores",
    "length_factor",
    "top_k",
]
