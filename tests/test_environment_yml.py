"""environment.yml (conda users) stays consistent with pyproject.toml (the source of deps)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli", reason="reading pyproject.toml on 3.10 needs tomli")

ROOT = Path(__file__).resolve().parent.parent
# Conda packages that are not Python distributions from pyproject: the interpreter, the
# installer, and Graphviz's binaries (conda's `graphviz` is `dot`; PyPI's is a Python binding).
NOT_FROM_PYPROJECT = {"python", "pip", "graphviz"}
PIP_PROJECT = re.compile(r"^-e\s+\.(?:\[(?P<extras>[^\]]*)\])?$")


@pytest.fixture(scope="module")
def env() -> dict:
    """environment.yml, parsed."""
    return yaml.safe_load((ROOT / "environment.yml").read_text())


@pytest.fixture(scope="module")
def project() -> dict:
    """The [project] table of pyproject.toml."""
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def conda_specs(env: dict) -> dict[str, str]:
    """Map each conda dependency's name to its version spec ('' when unpinned)."""
    specs = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str):
            name, spec = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", dep).groups()
            specs[canonicalize_name(name)] = spec.replace(" ", "")
    return specs


def pip_entries(env: dict) -> list[str]:
    """Return the lines of the `pip:` section."""
    sections = [dep["pip"] for dep in env["dependencies"] if isinstance(dep, dict) and "pip" in dep]
    assert len(sections) == 1, "environment.yml needs exactly one `- pip:` section"
    return sections[0]


def conda_to_pep440(spec: str) -> SpecifierSet:
    """Translate a conda version spec (>=3.10,<3.13 or =3.11 or 3.11.*) to a PEP 440 set."""
    parts = []
    for part in filter(None, spec.split(",")):
        if re.match(r"^=[^=]", part):
            part = f"=={part[1:]}" + ("" if part.endswith("*") else ".*")
        elif re.match(r"^\d", part):
            part = f"=={part}"
        parts.append(part)
    return SpecifierSet(",".join(parts))


def test_only_conda_forge(env):
    assert env["channels"] == ["conda-forge"]
    assert env["name"] == "serverless-labbook"


def test_python_range_fits_requires_python(env, project):
    conda_python = conda_to_pep440(conda_specs(env)["python"])
    required = SpecifierSet(project["requires-python"])
    allowed = [f"3.{minor}" for minor in range(6, 20) if f"3.{minor}" in conda_python]

    assert allowed, "environment.yml allows no Python 3.x at all"
    assert all(version in required for version in allowed), (
        f"environment.yml allows Python {allowed}, pyproject requires {required}"
    )


def test_pip_and_graphviz_come_from_conda(env):
    specs = conda_specs(env)

    assert "pip" in specs
    assert "graphviz" in specs, "conda users need Graphviz's dot to render the diagrams"


def test_pip_installs_the_project_with_its_dev_extra(env, project):
    [entry] = [e for e in pip_entries(env) if PIP_PROJECT.match(e)]
    extras = {e.strip() for e in (PIP_PROJECT.match(entry)["extras"] or "").split(",") if e.strip()}

    assert extras == {"dev"}
    assert set(project["optional-dependencies"]) >= extras


def test_no_package_pinned_differently_in_both_files(env, project):
    declared = [*project["dependencies"], *project["optional-dependencies"].get("dev", [])]
    pyproject = {canonicalize_name(r.name): r.specifier for r in map(Requirement, declared)}
    pip_lines = [e for e in pip_entries(env) if not PIP_PROJECT.match(e)]
    pip_reqs = {canonicalize_name(r.name): r.specifier for r in map(Requirement, pip_lines)}
    conda = {
        name: conda_to_pep440(spec)
        for name, spec in conda_specs(env).items()
        if name not in NOT_FROM_PYPROJECT
    }

    clashes = {
        name: (str(spec), str(pyproject[name]))
        for name, spec in {**conda, **pip_reqs}.items()
        if name in pyproject and spec and spec != pyproject[name]
    }

    assert not clashes, f"pinned differently in environment.yml and pyproject.toml: {clashes}"


def test_conda_spec_translation():
    assert conda_to_pep440(">=3.10,<3.13") == SpecifierSet(">=3.10,<3.13")
    assert "3.11.4" in conda_to_pep440("=3.11")
    assert "3.12.0" not in conda_to_pep440("=3.11")
