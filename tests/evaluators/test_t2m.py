"""Guo et al.'s T2M evaluator: released-layout loading, word vectors and re-normalisation."""

import builtins
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from remodiffuse.errors import InputError
from remodiffuse.evaluators import (
    EvaluatorFileError,
    WordVectorizer,
    load_evaluator,
    renormalize,
    save_t2m_layout,
)
from remodiffuse.evaluators.t2m import (
    POS_TAGS,
    MotionEncoderBiGRUCo,
    MovementConvEncoder,
    TextEncoderBiGRUCo,
    load_data_pickle,
)

WORDS = ["unk", "sos", "eos", "a", "person", "walk", "forward", "left", "slowly"]
D = 263


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> tuple[Path, dict[str, torch.nn.Module], np.ndarray]:
    """Random weights saved in the released layout: (root, the modules, the eval std)."""
    torch.manual_seed(0)
    root = tmp_path_factory.mktemp("t2m")
    modules = {
        "text_encoder": TextEncoderBiGRUCo(),
        "movement_encoder": MovementConvEncoder(D - 4),
        "motion_encoder": MotionEncoderBiGRUCo(),
    }
    for module in modules.values():
        module.eval()
    rng = np.random.default_rng(0)
    mean, std = rng.normal(size=D), rng.uniform(0.5, 2.0, size=D)
    vectors = rng.normal(size=(len(WORDS), 300)).astype(np.float32)
    save_t2m_layout(root, modules, mean, std, vectors, WORDS)
    return root, modules, std


def test_renormalize_follows_the_formula() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 3, 4)).astype(np.float32)
    mean_m, std_m, mean_e = rng.normal(size=(3, 4))
    std_e = rng.uniform(0.5, 2.0, size=4)
    std_m[0] = 0.0  # an all-constant channel of the model's statistics
    expected = ((x * (std_m + 1e-9) + mean_m) - mean_e) / std_e
    out = renormalize(x, mean_m, std_m, mean_e, std_e)
    assert out.dtype == torch.float32 and out.shape == (2, 3, 4)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6, atol=1e-6)
    same = renormalize(x, mean_m, std_m, mean_m, std_m, eval_eps=1e-9)
    np.testing.assert_allclose(same.numpy(), x, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="zero entries"):
        renormalize(x, mean_m, std_m, mean_e, np.zeros(4))


def test_word_vectorizer_tags_and_unknown_words() -> None:
    vectors = np.arange(len(WORDS) * 2, dtype=np.float32).reshape(-1, 2)
    vectorizer = WordVectorizer(vectors, {word: row for row, word in enumerate(WORDS)})
    assert POS_TAGS.index("OTHER") == 14 and POS_TAGS.index("Act_VIP") == 12
    vector, pos = vectorizer("walk/VERB")  # a VIP word: its VIP tag replaces VERB
    np.testing.assert_array_equal(vector, vectors[5])
    assert pos.argmax() == POS_TAGS.index("Act_VIP") and pos.sum() == 1
    assert vectorizer("person/NOUN")[1].argmax() == POS_TAGS.index("NOUN")
    assert vectorizer("a/XYZ")[1].argmax() == POS_TAGS.index("OTHER")
    vector, pos = vectorizer("zebra/NOUN")  # unknown: unk vector, OTHER
    np.testing.assert_array_equal(vector, vectors[0])
    assert pos.argmax() == POS_TAGS.index("OTHER")
    sentence = vectorizer.sentence([f"w{i}/NOUN" for i in range(25)])
    assert len(sentence) == 22 and sentence[0] == "sos/OTHER" and sentence[-1] == "eos/OTHER"


def test_released_layout_round_trip(released) -> None:
    root, modules, std = released
    evaluator = load_evaluator({"kind": "t2m", "root": str(root)})
    assert evaluator.feature_dim == D and evaluator.name == f"t2m:{root}"
    tokens = [["a/DET", "person/NOUN", "walk/VERB", "forward/ADV"], ["walk/VERB", "left/ADV"]]
    texts = evaluator.embed_texts(["a person walks forward", "walks left"], tokens)
    assert texts.shape == (2, 512) and texts.dtype == np.float32
    vectorizer = evaluator.vectorizer
    row = [vectorizer(t) for t in vectorizer.sentence(tokens[1])]
    words = torch.tensor(np.stack([w for w, _ in row]))[None]  # (1, S, 300)
    pos = torch.tensor(np.stack([p for _, p in row]))[None]  # (1, S, 15)
    with torch.no_grad():
        direct = modules["text_encoder"](words, pos, torch.tensor([len(row)]))
    np.testing.assert_allclose(texts[1:], direct.numpy(), rtol=1e-5, atol=1e-5)

    rng = np.random.default_rng(2)
    mean_m, std_m = rng.normal(size=D), rng.uniform(0.5, 2.0, size=D)
    motions = rng.normal(size=(3, 40, D)).astype(np.float32)
    lengths = [40, 24, 13]
    embedded = evaluator.embed_motions(motions, lengths, mean_m, std_m)
    assert embedded.shape == (3, 512)
    eval_space = renormalize(motions[2:, :13], mean_m, std_m, np.load(root / "mean.npy"), std)
    eval_space = torch.cat([eval_space, torch.zeros(1, 196 - 13, D)], dim=1)  # released padding
    with torch.no_grad():
        movements = modules["movement_encoder"](eval_space[..., :-4])  # (1, 3, 512)
        expected = modules["motion_encoder"](movements, torch.tensor([13 // 4]))
    np.testing.assert_allclose(embedded[2:], expected.numpy(), rtol=1e-4, atol=1e-5)
    shuffled = evaluator.embed_motions(motions[::-1].copy(), lengths[::-1], mean_m, std_m)
    np.testing.assert_allclose(shuffled[::-1], embedded, rtol=1e-4, atol=1e-5)
    alone = evaluator.embed_motions(motions[2:, :13], [13], mean_m, std_m)  # other padding
    np.testing.assert_allclose(alone, embedded[2:], rtol=1e-4, atol=1e-5)


def test_pickled_word_index_is_accepted(released, tmp_path) -> None:
    root, _, _ = released
    glove = tmp_path / "glove"
    glove.mkdir()
    (glove / "our_vab_data.npy").write_bytes((root / "glove" / "our_vab_data.npy").read_bytes())
    with (glove / "our_vab_idx.pkl").open("wb") as file:
        pickle.dump({word: row for row, word in enumerate(WORDS)}, file)
    vectorizer = WordVectorizer.load(glove)
    assert vectorizer.word_to_row["slowly"] == WORDS.index("slowly")
    (glove / "our_vab_idx.pkl").unlink()
    with pytest.raises(EvaluatorFileError, match="our_vab_idx.json or .pkl"):
        WordVectorizer.load(glove)


class _Exploit:
    """Pickles as a call of `function(argument)`: what a hostile .pkl does on a plain load."""

    def __init__(self, function, argument) -> None:
        self.function, self.argument = function, argument

    def __reduce__(self):
        return self.function, (self.argument,)


def _hostile_pickles(tmp_path: Path) -> dict[str, tuple[bytes, str]]:
    """{name: (pickle bytes, the global it names)}; each would create tmp_path/pwned."""
    marker = tmp_path / "pwned"
    index = {"unk": 0, "walk": _Exploit(os.system, f"touch {marker}")}
    return {
        "system": (pickle.dumps(_Exploit(os.system, f"touch {marker}")), f"{os.name}.system"),
        "exec": (pickle.dumps(_Exploit(builtins.exec, f"open({str(marker)!r}, 'w')")), "exec"),
        "nested": (pickle.dumps(index, protocol=2), "system"),
    }


@pytest.mark.parametrize("name", ["system", "exec", "nested"])
def test_pickles_that_would_run_code_are_refused(released, tmp_path, name) -> None:
    data, refused = _hostile_pickles(tmp_path)[name]
    path = tmp_path / "our_vab_idx.pkl"
    path.write_bytes(data)
    with pytest.raises(InputError, match=f"{path}: refusing the pickle global .*{refused}"):
        load_data_pickle(path)
    root, _, _ = released
    (tmp_path / "our_vab_data.npy").write_bytes((root / "glove" / "our_vab_data.npy").read_bytes())
    with pytest.raises(InputError, match="refusing the pickle global"):
        WordVectorizer.load(tmp_path)
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_data_pickles_load(tmp_path, protocol) -> None:
    data = {
        "words": WORDS,
        "index": {word: row for row, word in enumerate(WORDS)},
        "numpy": {"vectors": np.arange(6.0).reshape(2, 3), "row": np.int64(3), "set": {1, 2}},
    }
    for name, value in data.items():
        path = tmp_path / f"{name}.pkl"
        path.write_bytes(pickle.dumps(value, protocol=protocol))
        loaded = load_data_pickle(path)
        assert pickle.dumps(loaded, protocol=protocol) == path.read_bytes()
    (tmp_path / "truncated.pkl").write_bytes(pickle.dumps(WORDS)[:-5])
    with pytest.raises(EvaluatorFileError, match="unreadable pickle .*truncated.pkl"):
        load_data_pickle(tmp_path / "truncated.pkl")


def test_errors_name_the_missing_file_and_mismatch(released, tmp_path) -> None:
    root, _, _ = released
    with pytest.raises(EvaluatorFileError, match="finest.tar"):
        load_evaluator({"kind": "t2m", "root": str(tmp_path)})
    with pytest.raises(EvaluatorFileError, match="missing T2M evaluator directory"):
        load_evaluator({"kind": "t2m", "root": str(tmp_path / "absent")})
    with pytest.raises(EvaluatorFileError, match="our_vab_data.npy"):
        load_evaluator({"kind": "t2m", "root": str(root), "glove_dir": str(tmp_path)})
    np.save(tmp_path / "kit_mean.npy", np.zeros(251))
    with pytest.raises(ValueError, match="different feature dimensions"):
        load_evaluator({"kind": "t2m", "root": str(root), "mean": str(tmp_path / "kit_mean.npy")})
    evaluator = load_evaluator({"kind": "t2m", "root": str(root)})
    with pytest.raises(ValueError, match="expects 263"):
        evaluator.embed_motions(np.zeros((1, 8, 251)), [8], np.zeros(251), np.ones(251))
    with pytest.raises(ValueError, match="feature dimensions"):
        evaluator.embed_motions(np.zeros((1, 8, D)), [8], np.zeros(251), np.ones(251))


def test_shared_evaluator_statistics_load(released, require_fixture) -> None:
    root, _, _ = released
    meta = require_fixture("data", "humanml3d-meta")
    evaluator = load_evaluator(
        {
            "kind": "t2m",
            "root": str(root),
            "mean": str(meta / "evaluator_t2m_mean.npy"),
            "std": str(meta / "evaluator_t2m_std.npy"),
        }
    )
    model_mean, model_std = np.load(meta / "Mean.npy"), np.load(meta / "Std.npy")
    motions = np.zeros((1, 16, D), np.float32)  # the model's mean pose
    assert np.isfinite(evaluator.embed_motions(motions, [16], model_mean, model_std)).all()
