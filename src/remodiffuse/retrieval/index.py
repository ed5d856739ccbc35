"""FAISS inner-product index over unit sentence features: flat, IVF or HNSW, on GPU if any."""

import math
from pathlib import Path

import faiss
import numpy as np

from remodiffuse.retrieval.config import RetrievalConfig

FLOAT32_UNIT = 2.0**-24
GPU_ERROR = 2.0**-9  # covers TF32 / float16 matrix products on GPU
GPU_MAX_CANDIDATES = 2048  # largest k a FAISS GPU search accepts


def gpu_available() -> bool:
    """True when this FAISS build has GPU support and sees a CUDA device."""
    return hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0


class CandidateIndex:
    """Cosine candidates (the stored features are unit vectors) from one FAISS index."""

    def __init__(self, index: faiss.Index, kind: str, use_gpu: bool) -> None:
        """Wrap a CPU index; flat and IVF move to GPU 0 when `use_gpu` and a GPU is present."""
        self.kind = kind
        self._resources = None
        if use_gpu and kind != "hnsw" and gpu_available():
            self._resources = faiss.StandardGpuResources()
            index = faiss.index_cpu_to_gpu(self._resources, 0, index)
        self._index = index

    @classmethod
    def build(cls, features: np.ndarray, config: RetrievalConfig) -> "CandidateIndex":
        """Index (N, D) float32 unit features as the config says (IVF is trained on them)."""
        dim = features.shape[1]
        if config.index == "flat":
            index = faiss.IndexFlatIP(dim)
        elif config.index == "ivf":
            nlist = min(config.nlist, features.shape[0])  # k-means needs >= nlist points
            index = faiss.index_factory(dim, f"IVF{nlist},Flat", faiss.METRIC_INNER_PRODUCT)
            index.train(features)
        else:
            index = faiss.IndexHNSWFlat(dim, config.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = config.ef_construction
        index.add(features)
        return cls._configured(index, config)

    @classmethod
    def read(
        cls, path: Path, config: RetrievalConfig, num_entries: int, dim: int
    ) -> "CandidateIndex":
        """Read an index written by `write`; ValueError when it does not fit the database."""
        index = faiss.read_index(str(path))
        expected = {"ivf": faiss.IndexIVFFlat, "hnsw": faiss.IndexHNSWFlat}[config.index]
        if (
            not isinstance(faiss.downcast_index(index), expected)
            or index.metric_type != faiss.METRIC_INNER_PRODUCT
            or (index.ntotal, index.d) != (num_entries, dim)
        ):
            raise ValueError(
                f"{path} holds a {type(faiss.downcast_index(index)).__name__} of "
                f"{index.ntotal} x {index.d}; expected an inner-product {config.index} index of "
                f"{num_entries} x {dim}"
            )
        return cls._configured(index, config)

    @classmethod
    def _configured(cls, index: faiss.Index, config: RetrievalConfig) -> "CandidateIndex":
        candidate_index = cls(index, config.index, config.use_gpu)
        candidate_index.set_search_parameters(config.nprobe, config.ef_search)
        return candidate_index

    @property
    def on_gpu(self) -> bool:
        return self._resources is not None

    @property
    def max_candidates(self) -> float:
        """Largest number of neighbours one search may ask for."""
        return GPU_MAX_CANDIDATES if self.on_gpu else math.inf

    @property
    def cosine_error(self) -> float:
        """Bound on |FAISS inner product - exact inner product| for unit vectors."""
        error = 2.0 * (self._index.d + 2) * FLOAT32_UNIT
        return error + GPU_ERROR if self.on_gpu else error

    def set_search_parameters(self, nprobe: int, ef_search: int) -> None:
        """Query-time knobs: IVF lists probed, HNSW beam width (ignored by the flat index)."""
        space = faiss.GpuParameterSpace() if self.on_gpu else faiss.ParameterSpace()
        if self.kind == "ivf":
            space.set_index_parameter(self._index, "nprobe", nprobe)
        elif self.kind == "hnsw":
            space.set_index_parameter(self._index, "efSearch", ef_search)

    def search(self, queries: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-m inner products of (Q, D) queries: (Q, m) float32, (Q, m) int64 (-1: none)."""
        return self._index.search(np.ascontiguousarray(queries, dtype=np.float32), m)

    def write(self, path: Path) -> None:
        """Write the index (a CPU copy of a GPU index) with faiss.write_index."""
        index = faiss.index_gpu_to_cpu(self._index) if self.on_gpu else self._index
        faiss.write_index(index, str(path))
