"""Shared test fixtures: composed Hydra configs and the reference data of ../shared."""

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

from remodiffuse.configs import config_dir

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_ROOT = REPO_ROOT.parent / "shared"
SHARED_PARTS = ("fixtures", "data")  # the top folders of ../shared a test may require


def shared_path(*parts: str) -> Path:
    """../shared/<parts> beside the repository, whether or not it exists.

    `parts` starts with "fixtures" (reference fixtures; the root is $REMODIFFUSE_FIXTURES when
    set) or "data" (real data samples).
    """
    if not parts or parts[0] not in SHARED_PARTS:
        raise ValueError(f"a shared path starts with one of {SHARED_PARTS}, got {parts}")
    override = os.environ.get("REMODIFFUSE_FIXTURES")
    if parts[0] == "fixtures" and override:
        return Path(override).joinpath(*parts[1:])
    return SHARED_ROOT.joinpath(*parts)


def fixtures_required() -> bool:
    """Whether a missing shared fixture fails: CI=true or REMODIFFUSE_REQUIRE_FIXTURES=1."""
    return (
        os.environ.get("CI", "").lower() in {"true", "1"}
        or os.environ.get("REMODIFFUSE_REQUIRE_FIXTURES") == "1"
    )


def require_shared(*parts: str) -> Path:
    """`shared_path(*parts)` when it exists; otherwise skip the test naming the path, or fail it
    under CI=true / REMODIFFUSE_REQUIRE_FIXTURES=1 (parity tests must not pass by skipping)."""
    path = shared_path(*parts)
    if path.exists():
        return path
    message = f"shared fixture not found: {path}"
    if parts[0] == "fixtures":
        message += " (set REMODIFFUSE_FIXTURES to the fixtures root)"
    if fixtures_required():
        pytest.fail(f"{message}; required because CI=true or REMODIFFUSE_REQUIRE_FIXTURES=1")
    pytest.skip(message)


@pytest.fixture(scope="session")
def require_fixture() -> Callable[..., Path]:
    """`require_shared`: require_fixture("fixtures", "metrics", "fid.npz") -> Path, or skip/fail.

    The one lookup of ../shared for every test; see `require_shared` for the policy.
    """
    return require_shared


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "fixture_files(*parts, patterns): parametrize `fixture_file` over the files of "
        "../shared/<parts> matching the glob patterns",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests needing `fixture_file` run once per file found by their `fixture_files` marker.

    Each parameter is the tuple of parts to pass to `require_fixture`; with no file found there is
    one parameter naming the first pattern, so the test skips (or fails under CI) naming it.
    """
    marker = metafunc.definition.get_closest_marker("fixture_files")
    if marker is None or "fixture_file" not in metafunc.fixturenames:
        return
    parts, patterns = marker.args, marker.kwargs["patterns"]
    directory = shared_path(*parts)
    names = [path.name for pattern in patterns for path in sorted(directory.glob(pattern))]
    params = [(*parts, name) for name in names] or [(*parts, patterns[0])]
    ids = [Path(name).stem for name in names] or ["missing"]
    metafunc.parametrize("fixture_file", params, ids=ids, scope="module")


def compose_train_config(directory: Path, *overrides: str) -> DictConfig:
    """The training config as Hydra composes it at run time, writing under `directory`."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        cfg = compose("train", overrides=list(overrides), return_hydra_config=True)
    with open_dict(cfg):
        cfg.hydra.runtime.output_dir = str(directory / "run")
        cfg.paths.data_dir = str(directory / "data")
    HydraConfig.instance().set_config(cfg)
    return cfg


@pytest.fixture
def compose_train(tmp_path):
    """Compose the training config with overrides, writing under tmp_path."""
    yield lambda *overrides: compose_train_config(tmp_path, *overrides)
    GlobalHydra.instance().clear()


@pytest.fixture(scope="module")
def compose_train_module():
    """`compose_train_config` for module-scoped fixtures (the caller passes the directory)."""
    yield compose_train_config
    GlobalHydra.instance().clear()


TINY_TRAINING = ("debug=tiny",)  # conf/debug/tiny.yaml


@pytest.fixture(scope="session")
def tiny_training() -> tuple[str, ...]:
    """Hydra overrides of a tiny training run on 40 synthetic motions (2 epochs of 4 steps)."""
    return TINY_TRAINING


@pytest.fixture(scope="session")
def tiny_trained_run(tmp_path_factory) -> tuple[Path, Path]:
    """Two epochs of a tiny model on 40 synthetic motions: (run directory, last checkpoint)."""
    from remodiffuse.training import run_training

    cfg = compose_train_config(tmp_path_factory.mktemp("tiny_run"), *TINY_TRAINING)
    try:
        last = run_training(cfg)
    finally:
        GlobalHydra.instance().clear()
    return Path(cfg.hydra.runtime.output_dir), last


TINY_EVALUATOR = ("stage=evaluator", "debug=tiny_evaluator")  # conf/debug/tiny_evaluator.yaml


@pytest.fixture(scope="session")
def tiny_evaluator_run(tmp_path_factory) -> Path:
    """Run directory of a tiny contrastive evaluator (evaluator.safetensors + evaluator.yaml)."""
    from remodiffuse.training import run_training

    cfg = compose_train_config(tmp_path_factory.mktemp("tiny_evaluator"), *TINY_EVALUATOR)
    try:
        run_training(cfg)
    finally:
        GlobalHydra.instance().clear()
    return Path(cfg.hydra.runtime.output_dir)
