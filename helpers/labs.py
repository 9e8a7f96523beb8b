"""Student lab notebooks, generated from the solution notebooks.

A lab lives in `labs/NN-arch/`: the solution notebook `solution/NN-arch-solution.ipynb` is the
source; `student/NN-arch-student.ipynb` is made from it by `labbook student` and committed. In the
student copy every code cell tagged `solution` becomes a `# TODO` stub carrying the cell's hint
(its `hint` metadata), keeping a leading cell magic such as `%%writefile my-functions/x/app.py`;
markdown cells tagged `solution` are dropped; outputs and execution counts are cleared. The same
solution always makes the same student notebook, byte for byte.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

SOLUTION_TAG = "solution"
CHECK_TAG = "check"
CHECK_CALL = re.compile(r"\bcheck\.(\w+)\(")
SOLUTION_SUFFIX = "-solution.ipynb"
STUDENT_SUFFIX = "-student.ipynb"
WIDTH = 96


def solutions(root: Path) -> list[Path]:
    """Every lab's solution notebook under root/labs, in course order."""
    return sorted(root.glob(f"labs/*/solution/*{SOLUTION_SUFFIX}"))


def student_path(solution: Path) -> Path:
    """Where a solution's student notebook goes: labs/NN-arch/student/NN-arch-student.ipynb."""
    if solution.parent.name != "solution" or not solution.name.endswith(SOLUTION_SUFFIX):
        raise ValueError(
            f"{solution} is not a lab solution; expected labs/NN-arch/solution/NN-arch{SOLUTION_SUFFIX}"
        )
    stem = solution.name[: -len(SOLUTION_SUFFIX)]
    return solution.parent.parent / "student" / f"{stem}{STUDENT_SUFFIX}"


def stub(source: str, hint: str) -> str:
    """The student's version of a solution cell: its cell magic, a TODO and the hint."""
    if not hint.strip():
        raise ValueError("a solution cell needs a hint (cell metadata 'hint') for its stub")
    lines = source.splitlines()
    head = [lines[0]] if lines and lines[0].startswith("%%") else []
    body = textwrap.wrap(
        " ".join(hint.split()), WIDTH, initial_indent="# TODO: ", subsequent_indent="#       "
    )
    return "\n".join(head + body)


def student_notebook(solution: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student notebook made from a solution notebook (the solution is not changed)."""
    student = nbformat.from_dict(nbformat.from_dict(solution))  # a deep copy
    cells = []
    for cell in student.cells:
        tags = cell.metadata.get("tags", [])
        if SOLUTION_TAG in tags:
            if cell.cell_type == "markdown":
                continue
            if cell.cell_type == "code":
                cell.source = stub(cell.source, cell.metadata.get("hint", ""))
                cell.metadata["tags"] = [t for t in tags if t != SOLUTION_TAG] + ["todo"]
                cell.metadata.pop("hint", None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cells.append(cell)
    student.cells = cells
    return student


def lab_of(solution: Path) -> str:
    """The lab id of a solution notebook: its lab folder's name, e.g. '01-myblog'."""
    return student_path(solution).parent.parent.name


def render(notebook: nbformat.NotebookNode) -> str:
    """A notebook as the text committed to the repository."""
    return nbformat.writes(notebook) + "\n"


def generate(root: Path, *, check: bool = False) -> list[Path]:
    """Write every lab's student notebook; return those that changed (with check: only report)."""
    changed = []
    for solution in solutions(root):
        target = student_path(solution)
        student = student_notebook(nbformat.read(solution, as_version=4))
        student.metadata["labbook"] = {"lab": lab_of(solution)}  # for `labbook grade`
        text = render(student)
        if not target.exists() or target.read_text() != text:
            changed.append(target)
            if not check:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text)
    return changed


# --- grading --------------------------------------------------------------------------------


@dataclass
class CheckResult:
    """One check of a graded lab: its name, and the error it ended with (None when it passed)."""

    name: str
    ename: str | None
    evalue: str | None

    @property
    def passed(self) -> bool:
        return self.ename is None


def check_name(source: str) -> str | None:
    """The check a check cell calls (`check.thumbnail_trigger(lab)` -> 'thumbnail_trigger');
    None when the cell calls no check, or several."""
    found = CHECK_CALL.findall(source)
    return found[0] if len(found) == 1 else None


def lab_id(notebook: nbformat.NotebookNode, path: Path) -> str:
    """The lab a student notebook belongs to (stamped by `labbook student`)."""
    from .checks import LABS

    lab = notebook.metadata.get("labbook", {}).get("lab")
    if not lab:
        raise ValueError(
            f"{path.name} is not a lab notebook made by `labbook student` (no metadata.labbook.lab); "
            "grade a copy of labs/NN-arch/student/NN-arch-student.ipynb"
        )
    if lab not in LABS:
        raise ValueError(f"{path.name} names lab {lab!r}, which is not one of {', '.join(LABS)}")
    return lab


def grade(
    path: Path, root: Path, *, backend: str = "moto", timeout: float = 600
) -> list[CheckResult]:
    """Run a learner's lab notebook headless in a copy of its lab folder, carrying on past
    errors (a cell that times out is interrupted), and return one result per check of the lab,
    in order: passed when its cell printed the check's ✓ line, else what went wrong."""
    from nbclient import NotebookClient

    from .checks import checks_of
    from .cli import _current_env_kernel_manager

    notebook = nbformat.read(path, as_version=4)
    lab = lab_id(notebook, path)
    stopped = "the check cell did not run"
    with tempfile.TemporaryDirectory(prefix="labbook-grade-") as work:
        folder = Path(work) / lab
        shutil.copytree(
            root / "labs" / lab,
            folder,
            ignore=shutil.ignore_patterns("__pycache__", "my-functions"),
        )
        (folder / "student").mkdir(exist_ok=True)
        # the learner's backend, and a progress file of its own: never the grader's
        env = dict(os.environ, LAB_BACKEND=backend, LABBOOK_HOME=str(Path(work) / "home"))
        client = NotebookClient(
            notebook,
            timeout=timeout,
            allow_errors=True,
            interrupt_on_timeout=True,
            record_timing=False,
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
            kernel_manager_class=_current_env_kernel_manager(),
            resources={"metadata": {"path": str(folder / "student")}},
        )
        try:
            client.execute(env=env)
        except Exception as error:  # a dead kernel or the like: grade what ran
            stopped = f"the run stopped before it: {type(error).__name__}"
    found: dict[str, CheckResult] = {}
    for cell in notebook.cells:
        if cell.cell_type != "code" or CHECK_TAG not in cell.metadata.get("tags", []):
            continue
        name = check_name(cell.source)
        if name is None or name in found:  # an edited or repeated check cell counts once
            continue
        error: Any = next((o for o in cell.outputs if o.output_type == "error"), None)
        printed = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        if error is not None:
            found[name] = CheckResult(name, error.ename, error.evalue)
        elif printed.startswith("✓") or "\n✓" in printed:
            found[name] = CheckResult(name, None, None)
        else:
            found[name] = CheckResult(name, "NotRun", stopped)
    return [
        found.get(c.name) or CheckResult(c.name, "Missing", f"no cell calls check.{c.name}(lab)")
        for c in checks_of(lab)
    ]
