"""Missing ../shared fixtures: skipped, or failed under CI=true or REMODIFFUSE_REQUIRE_FIXTURES=1.

A throw-away test file runs in a pytest subprocess with tests/conftest.py loaded as a plugin, so the
outcome is what pytest itself reports (skipped or failed), not what the helper raises.
"""

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

PROBE = """
import pytest


def test_missing(require_fixture):
    require_fixture("fixtures", "no-such-fixture", "never.npz")


def test_missing_data(require_fixture):
    require_fixture("data", "no-such-data-set")


@pytest.mark.fixture_files("fixtures", "no-such-folder", patterns=("seq*.npz",))
def test_missing_files(fixture_file, require_fixture):
    require_fixture(*fixture_file)


def test_present(require_fixture):
    path = require_fixture("fixtures", "present", "one.npz")
    assert path.read_text() == "x"


@pytest.mark.fixture_files("fixtures", "present", patterns=("*.npz",))
def test_present_files(fixture_file, require_fixture):
    assert require_fixture(*fixture_file).read_text() == "x"
"""


def run_probe(tmp_path: Path, **env: str) -> dict[str, tuple[str, str]]:
    """{test name: (outcome, message)} of the probe run with `env` on top of a clean environment."""
    fixtures = tmp_path / "fixtures"
    (fixtures / "present").mkdir(parents=True, exist_ok=True)
    for name in ("one.npz", "two.npz"):
        (fixtures / "present" / name).write_text("x")
    (tmp_path / "test_probe.py").write_text(PROBE)
    variables = {
        k: v for k, v in os.environ.items() if k not in {"CI", "REMODIFFUSE_REQUIRE_FIXTURES"}
    }
    variables["PYTHONPATH"] = os.pathsep.join(
        [str(TESTS), *filter(None, [variables.get("PYTHONPATH")])]
    )
    variables |= {"REMODIFFUSE_FIXTURES": str(fixtures), **env}
    report = tmp_path / "report.xml"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "conftest", "-p", "no:cacheprovider", "-q"]
        + [f"--junit-xml={report}", "test_probe.py"],
        cwd=tmp_path,
        env=variables,
        capture_output=True,
        text=True,
        timeout=300,
    )
    outcomes = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        child = next(iter(case), None)
        outcome = "passed" if child is None else child.tag  # failure, error or skipped
        outcomes[case.get("name")] = (outcome, "" if child is None else child.get("message", ""))
    return outcomes


MISSING = {
    "test_missing": "no-such-fixture/never.npz",
    "test_missing_data": "shared/data/no-such-data-set",
    "test_missing_files[missing]": "no-such-folder/seq*.npz",
}
PRESENT = ("test_present", "test_present_files[one]", "test_present_files[two]")


@pytest.mark.parametrize(
    "env",
    [{"CI": "true"}, {"REMODIFFUSE_REQUIRE_FIXTURES": "1"}],
    ids=["CI=true", "REMODIFFUSE_REQUIRE_FIXTURES=1"],
)
def test_missing_fixtures_fail_when_required(tmp_path, env):
    outcomes = run_probe(tmp_path, **env)
    assert set(outcomes) == {*MISSING, *PRESENT}, outcomes
    for name, path in MISSING.items():
        outcome, message = outcomes[name]
        assert outcome == "failure" and path in message, (name, outcomes[name])
    assert all(outcomes[name][0] == "passed" for name in PRESENT), outcomes


def test_missing_fixtures_skip_otherwise(tmp_path):
    outcomes = run_probe(tmp_path, CI="false")
    assert set(outcomes) == {*MISSING, *PRESENT}, outcomes
    for name, path in MISSING.items():
        outcome, message = outcomes[name]
        assert outcome == "skipped" and path in message, (name, outcomes[name])
    assert all(outcomes[name][0] == "passed" for name in PRESENT), outcomes


def test_paths_start_with_fixtures_or_data(require_fixture):
    with pytest.raises(ValueError, match="fixtures"):
        require_fixture("humanml3d-representation")
