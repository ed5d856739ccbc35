"""Re-implementation of Guo et al.'s T2M text-motion evaluator (CVPR 2022) and its loader.

Architecture (the released `text_mot_match` model; state-dict names follow its modules):

- Text: each token `word/POS` -> 300-d GloVe vector (unknown words: `unk`, POS OTHER) plus a
  15-d one-hot POS tag (a word of the VIP lists below overrides its POS tag). The one-hot is
  projected to 300-d and added to the word vector (`pos_emb`), then Linear(300 -> 512)
  (`input_emb`), a bi-GRU (hidden 512, learned initial state `hidden` (2, 1, 512)) over the packed
  sequence, and `output_net` = Linear(1024, 512), LayerNorm, LeakyReLU(0.2), Linear(512, 512) on
  the concatenated final forward/backward states. Captions keep at most 20 tokens and get
  `sos/OTHER` ... `eos/OTHER` around them (at most 22 steps).
- Motion: the (B, T, D) motion in the evaluator's normalisation without the last 4 (foot contact)
  channels -> `movement_encoder.main` = Conv1d(D - 4, 512, 4, stride 2, pad 1), Dropout(0.2),
  LeakyReLU(0.2), Conv1d(512, 512, 4, 2, 1), Dropout(0.2), LeakyReLU(0.2) (T -> T // 4), then
  `out_net` Linear(512, 512); `motion_encoder` = Linear(512 -> 1024) (`input_emb`), bi-GRU
  (hidden 1024, learned `hidden` (2, 1, 1024)) over the first length // 4 movement steps,
  `output_net` = Linear(2048, 1024), LayerNorm, LeakyReLU(0.2), Linear(1024, 512).
- Frames past a motion's length are zero in the evaluator's normalisation and every batch is
  zero-padded to at least 196 frames, as the released data loader pads each normalised motion
  to max_motion_length = 196: the last movement steps see the frames after the length, so the
  padding changes the embedding, and this makes it independent of the caller's padding.

Expected directory layout of `evaluator.root` (each path can be overridden in the config, relative
to the root or absolute):

    <root>/finest.tar               torch.save'd dict with the plain state dicts under
                                    "text_encoder", "movement_encoder", "motion_encoder"
                                    (released: <ckpt>/t2m/text_mot_match/model/finest.tar)
    <root>/mean.npy, <root>/std.npy the evaluator's (D,) normalisation (released meta/mean.npy,
                                    std.npy; shared: evaluator_t2m_*.npy / evaluator_kit_*.npy)
    <root>/glove/our_vab_data.npy   (V, 300) word vectors
    <root>/glove/our_vab_words.json list of the V words     (or the released our_vab_words.pkl)
    <root>/glove/our_vab_idx.json   {word: row} into data   (or the released our_vab_idx.pkl)

The .pkl variants are Python pickles, read only when no .json variant is present and never
trusted: `load_data_pickle` rebuilds builtin containers, strings and numbers and numpy arrays,
dtypes and scalars, and refuses any other global (which is how a pickle runs code) with an
InputError naming the file. finest.tar is read with torch.load(weights_only=True).
"""

import codecs
import io
import json
import pickle
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from remodiffuse.errors import InputError
from remodiffuse.evaluators.common import (
    EvaluatorFileError,
    check_statistics,
    motion_batch,
    renormalize,
    require_file,
)
from remodiffuse.motion.masks import length_mask

try:  # numpy >= 2 (pickles written by numpy 1 name numpy.core.*)
    from numpy._core import multiarray, numeric
except ImportError:  # numpy 1
    from numpy.core import multiarray, numeric

POS_TAGS = (
    "VERB", "NOUN", "DET", "ADP", "NUM", "AUX", "PRON", "ADJ", "ADV",
    "Loc_VIP", "Body_VIP", "Obj_VIP", "Act_VIP", "Desc_VIP", "OTHER",
)  # fmt: skip
VIP_WORDS = {
    "Loc_VIP": (
        "left right clockwise counterclockwise anticlockwise forward back backward up down "
        "straight curve"
    ),
    "Body_VIP": "arm chin foot feet face hand mouth leg waist eye knee shoulder thigh",
    "Obj_VIP": "stair dumbbell chair window floor car ball handrail baseball basketball",
    "Act_VIP": (
        "walk run swing pick bring kick put squat throw hop dance jump turn stumble stop sit lift "
        "lower raise wash stand kneel stroll rub bend balance flap jog shuffle lean rotate spin "
        "spread climb"
    ),
    "Desc_VIP": "slowly carefully fast careful slow quickly happy angry sad happily angrily sadly",
}
WORD_DIM = 300
MAX_TEXT_TOKENS = 20
UNIT_LENGTH = 4
PADDED_LENGTH = 196
CONTACT_CHANNELS = 4
CHECKPOINT_KEYS = ("text_encoder", "movement_encoder", "motion_encoder")
# The only globals a data pickle may name: plain builtins (protocol 2 spells them __builtin__),
# and what numpy needs to rebuild arrays (protocol 5: numeric._frombuffer), dtypes and scalars
# (protocol 2 pickles bytes via _codecs.encode).
PICKLE_GLOBALS = {
    **{(module, kind.__name__): kind
       for module in ("builtins", "__builtin__")
       for kind in (list, dict, tuple, set, frozenset, str, int, float, complex, bool)},
    **{(f"{package}.{module}", name): function
       for package in ("numpy.core", "numpy._core")
       for module, name, function in (("multiarray", "_reconstruct", multiarray._reconstruct),
                                      ("multiarray", "scalar", multiarray.scalar),
                                      ("numeric", "_frombuffer", numeric._frombuffer))},
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): codecs.encode,
}  # fmt: skip


class _DataUnpickler(pickle.Unpickler):
    """An Unpickler that resolves only PICKLE_GLOBALS."""

    def __init__(self, file: io.BufferedIOBase, path: Path) -> None:
        super().__init__(file)
        self.path = path

    def find_class(self, module: str, name: str) -> Any:
        try:
            return PICKLE_GLOBALS[(module, name)]
        except KeyError:
            raise InputError(
                f"{self.path}: refusing the pickle global {module}.{name}: a data pickle may only "
                "hold builtin containers, strings, numbers and numpy arrays (a pickle naming "
                "other globals can run code)"
            ) from None


def load_data_pickle(path: str | Path) -> Any:
    """Unpickle `path` without running code: see PICKLE_GLOBALS; InputError for anything else
    and EvaluatorFileError for an unreadable or corrupt file."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            return _DataUnpickler(file, path).load()
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 -- no code ran: any other failure is a corrupt file
        raise EvaluatorFileError(f"unreadable pickle {path}: {exc!r}") from None


def _vip_tags() -> dict[str, str]:
    """word -> VIP tag (the first list naming it)."""
    tags: dict[str, str] = {}
    for tag, words in VIP_WORDS.items():
        for word in words.split():
            tags.setdefault(word, tag)
    return tags


class MovementConvEncoder(nn.Module):
    """(B, T, D - 4) -> (B, T // 4, output): two stride-2 convs with LeakyReLU, then a Linear."""

    def __init__(self, input_size: int, hidden_size: int = 512, output_size: int = 512) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv1d(input_size, hidden_size, 4, 2, 1),
            nn.Dropout(0.2),
            nn.LeakyReLU(0.2),
            nn.Conv1d(hidden_size, output_size, 4, 2, 1),
            nn.Dropout(0.2),
            nn.LeakyReLU(0.2),
        )
        self.out_net = nn.Linear(output_size, output_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T, Din) -> (B, T // 4, Dout)."""
        h = self.main(x.permute(0, 2, 1)).permute(0, 2, 1)  # (B, T // 4, Dout)
        return self.out_net(h)


class BiGRUEncoder(nn.Module):
    """Linear -> bi-GRU from a learned state -> MLP on [last forward | last backward] states."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int) -> None:
        super().__init__()
        self.input_emb = nn.Linear(input_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True, bidirectional=True)
        self.output_net = nn.Sequential(
            nn.Linear(hidden_size * 2, hidden_size),
            nn.LayerNorm(hidden_size),
            nn.LeakyReLU(0.2),
            nn.Linear(hidden_size, output_size),
        )
        self.hidden = nn.Parameter(torch.randn(2, 1, hidden_size))

    def encode(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """x (B, S, Din), lengths (B,) >= 1 -> (B, Dout)."""
        h = self.input_emb(x)  # (B, S, H)
        packed = pack_padded_sequence(h, lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, last = self.gru(packed, self.hidden.expand(-1, x.shape[0], -1).contiguous())
        return self.output_net(torch.cat([last[0], last[1]], dim=-1))  # (B, Dout)


class TextEncoderBiGRUCo(BiGRUEncoder):
    """Word vectors (B, S, 300) + POS one-hots (B, S, 15) -> (B, 512)."""

    def __init__(
        self,
        word_size: int = WORD_DIM,
        pos_size: int = len(POS_TAGS),
        hidden_size: int = 512,
        output_size: int = 512,
    ) -> None:
        super().__init__(word_size, hidden_size, output_size)
        self.pos_emb = nn.Linear(pos_size, word_size)

    def forward(
        self, words: torch.Tensor, pos: torch.Tensor, lengths: torch.Tensor
    ) -> torch.Tensor:
        """words (B, S, 300), pos (B, S, 15), lengths (B,) -> (B, Dout)."""
        return self.encode(words + self.pos_emb(pos), lengths)


class MotionEncoderBiGRUCo(BiGRUEncoder):
    """Movement features (B, S, 512) with step counts (B,) -> (B, 512)."""

    def __init__(
        self, input_size: int = 512, hidden_size: int = 1024, output_size: int = 512
    ) -> None:
        super().__init__(input_size, hidden_size, output_size)

    def forward(self, movements: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.encode(movements, lengths)


class WordVectorizer:
    """`word/POS` tokens -> (300-d GloVe vector, 15-d one-hot POS) as Guo et al.'s data loader."""

    def __init__(self, vectors: np.ndarray, word_to_row: Mapping[str, int]) -> None:
        if vectors.ndim != 2:
            raise ValueError(f"word vectors must be (V, dim), got shape {vectors.shape}")
        if "unk" not in word_to_row:
            raise ValueError("the word index has no 'unk' entry")
        self.vectors = vectors.astype(np.float32)  # (V, 300)
        self.word_to_row = dict(word_to_row)
        self.vip = _vip_tags()

    @classmethod
    def load(cls, directory: str | Path, prefix: str = "our_vab") -> "WordVectorizer":
        """From <prefix>_data.npy and <prefix>_idx.json (else <prefix>_idx.pkl, read with
        `load_data_pickle`)."""
        directory = Path(directory)
        vectors = np.load(require_file(directory / f"{prefix}_data.npy", "GloVe vectors"))
        index_path = directory / f"{prefix}_idx.json"
        if index_path.is_file():
            try:
                word_to_row = json.loads(index_path.read_text())
            except ValueError as exc:
                raise InputError(f"{index_path}: not a JSON word index ({exc})") from None
        else:
            index_path = require_file(
                directory / f"{prefix}_idx.pkl", f"GloVe word index ({index_path.name} or .pkl)"
            )
            word_to_row = load_data_pickle(index_path)
        return cls(vectors, _word_rows(word_to_row, index_path))

    def one_hot(self, tag: str) -> np.ndarray:
        """(15,) one-hot of a POS tag; unknown tags count as OTHER."""
        vector = np.zeros(len(POS_TAGS), dtype=np.float32)
        vector[POS_TAGS.index(tag) if tag in POS_TAGS else POS_TAGS.index("OTHER")] = 1.0
        return vector

    def __call__(self, token: str) -> tuple[np.ndarray, np.ndarray]:
        """(300,) word vector and (15,) POS one-hot of one `word/POS` token."""
        word, _, tag = token.partition("/")
        if word not in self.word_to_row:
            return self.vectors[self.word_to_row["unk"]], self.one_hot("OTHER")
        return self.vectors[self.word_to_row[word]], self.one_hot(self.vip.get(word, tag))

    def sentence(self, tokens: Sequence[str], max_tokens: int = MAX_TEXT_TOKENS) -> list[str]:
        """The first max_tokens tokens between sos/OTHER and eos/OTHER."""
        return ["sos/OTHER", *list(tokens)[:max_tokens], "eos/OTHER"]


def _word_rows(index: Any, path: Path) -> dict[str, int]:
    """{word: row} of a loaded word index, or InputError naming the file."""
    if not isinstance(index, Mapping):
        raise InputError(f"{path}: expected a dict word -> row, got {type(index).__name__}")
    try:
        return {str(word): int(row) for word, row in index.items()}
    except (TypeError, ValueError) as exc:
        raise InputError(f"{path}: expected a dict word -> row ({exc})") from None


class T2MEvaluator:
    """`MotionTextEvaluator` of Guo et al.'s text/movement/motion encoders and GloVe vectors."""

    def __init__(
        self,
        text_encoder: TextEncoderBiGRUCo,
        movement_encoder: MovementConvEncoder,
        motion_encoder: MotionEncoderBiGRUCo,
        vectorizer: WordVectorizer,
        mean: np.ndarray,
        std: np.ndarray,
        name: str,
        device: torch.device | str = "cpu",
    ) -> None:
        self.device = torch.device(device)
        self.text_encoder = text_encoder.to(self.device).eval()
        self.movement_encoder = movement_encoder.to(self.device).eval()
        self.motion_encoder = motion_encoder.to(self.device).eval()
        self.vectorizer = vectorizer
        self.feature_dim = movement_encoder.main[0].in_channels + CONTACT_CHANNELS
        check_statistics(mean, std, self.feature_dim, f"{name} evaluator normalisation")
        if (std <= 0).any():
            raise ValueError(f"{name} evaluator std has zero entries")
        self.mean = np.asarray(mean, dtype=np.float32)  # (D,)
        self.std = np.asarray(std, dtype=np.float32)  # (D,)
        self.name = name

    @torch.no_grad()
    def embed_texts(self, captions: list[str], tokens: list[list[str]]) -> np.ndarray:
        """(B, 512) from the `word/POS` tokens (captions are not used beyond their count)."""
        if len(tokens) != len(captions):
            raise ValueError(f"{len(tokens)} token lists for {len(captions)} captions")
        sentences = [self.vectorizer.sentence(row) for row in tokens]
        steps = max(len(row) for row in sentences)
        words = np.zeros((len(sentences), steps, self.vectorizer.vectors.shape[1]), np.float32)
        pos = np.zeros((len(sentences), steps, len(POS_TAGS)), np.float32)
        for b, row in enumerate(sentences):
            for s, token in enumerate(row):
                words[b, s], pos[b, s] = self.vectorizer(token)
        lengths = torch.tensor([len(row) for row in sentences])  # (B,)
        embedding = self.text_encoder(
            torch.from_numpy(words).to(self.device), torch.from_numpy(pos).to(self.device), lengths
        )
        return embedding.cpu().numpy()  # (B, 512)

    @torch.no_grad()
    def embed_motions(
        self,
        motions: torch.Tensor | np.ndarray,
        lengths: Sequence[int] | np.ndarray,
        mean: np.ndarray,
        std: np.ndarray,
    ) -> np.ndarray:
        """(B, 512) of (B, T, D) motions normalised with mean/std; lengths >= 4 frames."""
        motion, length = motion_batch(motions, lengths, self.feature_dim)  # (B, T, D), (B,)
        mean, std = np.asarray(mean), np.asarray(std)
        check_statistics(mean, std, self.feature_dim, "data")
        if (length < UNIT_LENGTH).any():
            raise ValueError(f"the T2M evaluator needs lengths >= {UNIT_LENGTH}")
        motion = renormalize(motion, mean, std, self.mean, self.std)  # (B, T, D)
        motion = motion * length_mask(length, motion.shape[1])[..., None]
        padding = max(PADDED_LENGTH - motion.shape[1], 0)
        motion = torch.nn.functional.pad(motion, (0, 0, 0, padding))  # (B, max(T, 196), D)
        movements = self.movement_encoder(motion[..., :-CONTACT_CHANNELS].to(self.device))
        embedding = self.motion_encoder(movements, length // UNIT_LENGTH)  # (B, 512)
        return embedding.cpu().numpy()


def _resolve(root: Path, value: str | Path) -> Path:
    """`value` relative to root unless absolute."""
    path = Path(value)
    return path if path.is_absolute() else root / path


def load_t2m(
    root: str | Path,
    checkpoint: str = "finest.tar",
    mean: str = "mean.npy",
    std: str = "std.npy",
    glove_dir: str = "glove",
    device: torch.device | str = "cpu",
) -> T2MEvaluator:
    """Guo et al.'s evaluator from the layout in the module docstring (D from the checkpoint)."""
    root = Path(root)
    if not root.is_dir():
        raise EvaluatorFileError(f"missing T2M evaluator directory: {root}")
    checkpoint_path = require_file(_resolve(root, checkpoint), "T2M evaluator checkpoint")
    states = torch.load(checkpoint_path, map_location="cpu", weights_only=True)
    missing = [key for key in CHECKPOINT_KEYS if key not in states]
    if missing:
        raise ValueError(f"{checkpoint_path} lacks the state dicts {missing}")
    conv = states["movement_encoder"]["main.0.weight"]  # (512, D - 4, 4)
    movement_encoder = MovementConvEncoder(conv.shape[1])
    text_encoder, motion_encoder = TextEncoderBiGRUCo(), MotionEncoderBiGRUCo()
    modules = (text_encoder, movement_encoder, motion_encoder)
    for module, key in zip(modules, CHECKPOINT_KEYS, strict=True):
        module.load_state_dict(states[key])
    statistics = [
        np.load(require_file(_resolve(root, path), f"T2M evaluator {label}"), allow_pickle=False)
        for path, label in ((mean, "mean"), (std, "std"))
    ]
    vectorizer = WordVectorizer.load(_resolve(root, glove_dir))
    return T2MEvaluator(
        text_encoder,
        movement_encoder,
        motion_encoder,
        vectorizer,
        *statistics,
        name=f"t2m:{root}",
        device=device,
    )


def save_t2m_layout(
    directory: str | Path,
    evaluator_modules: Mapping[str, nn.Module],
    mean: np.ndarray,
    std: np.ndarray,
    vectors: np.ndarray,
    words: Sequence[str],
) -> None:
    """Write modules, statistics and word vectors in the layout `load_t2m` reads (json index)."""
    directory = Path(directory)
    (directory / "glove").mkdir(parents=True, exist_ok=True)
    states = {key: evaluator_modules[key].state_dict() for key in CHECKPOINT_KEYS}
    torch.save(states, directory / "finest.tar")
    np.save(directory / "mean.npy", mean)
    np.save(directory / "std.npy", std)
    np.save(directory / "glove" / "our_vab_data.npy", vectors)
    (directory / "glove" / "our_vab_words.json").write_text(json.dumps(list(words)))
    index = {word: row for row, word in enumerate(words)}
    (directory / "glove" / "our_vab_idx.json").write_text(json.dumps(index))
