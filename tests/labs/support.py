"""Run a lab's untouched student notebook and compare what each check said with its intent."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

from helpers.labs import SOLUTION_TAG, CheckResult, grade, solutions, student_path

ROOT = Path(__file__).resolve().parents[2]


def solution_of(lab: str) -> Path:
    """The solution notebook of a lab id such as '01-myblog'."""
    found = [p for p in solutions(ROOT) if p.parent.parent.name == lab]
    assert found, f"no solution notebook under labs/{lab}/solution/"
    return found[0]


def run_student(lab: str, timeout: float = 300) -> list[CheckResult]:
    """Every check cell's result when the committed student notebook runs untouched."""
    return grade(student_path(solution_of(lab)), ROOT, timeout=timeout)


def assert_student_fails(lab: str, tmp_path: Path, expected: dict[str, str]) -> None:
    """Every check of the untouched student notebook fails, each with its intended message."""
    results = run_student(lab)
    assert [r.name for r in results] == list(expected), "check cells and expected messages differ"
    for result in results:
        assert result.ename == "CheckFailed", (
            f"check.{result.name} should fail on the untouched notebook with CheckFailed, "
            f"got {result.ename}: {result.evalue}"
        )
        assert expected[result.name] in result.evalue, (
            f"check.{result.name} said {result.evalue!r}, expected {expected[result.name]!r}"
        )


def solution_cells(lab: str) -> list[nbformat.NotebookNode]:
    """The code cells tagged `solution` in a lab's solution notebook."""
    nb = nbformat.read(solution_of(lab), as_version=4)
    return [c for c in nb.cells if SOLUTION_TAG in c.metadata.get("tags", [])]


def every_notebook() -> list[Path]:
    """The chapters and the labs' solutions: what must run on every backend."""
    return sorted(ROOT.glob("notebooks/*/*.ipynb")) + solutions(ROOT)


def run_folder(path: Path, tmp_path: Path) -> Path:
    """Where to run a notebook: its folder, or for a lab solution (which writes its handlers,
    `%%writefile my-functions/...`) the same folder in a copy of the lab, so that runs in
    parallel never write one file at once."""
    if path.parent.name != "solution":
        return path.parent
    lab = path.parent.parent
    shutil.copytree(lab, tmp_path / lab.name, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path / lab.name / "solution"
