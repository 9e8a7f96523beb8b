"""The labs as a whole: student notebooks generated from solutions, and the checks' contract."""

from __future__ import annotations

import nbformat
import pytest

from helpers import checks, labs, progress
from helpers.checks import CheckFailed, Mistake, check
from helpers.cli import main
from helpers.labs import check_name
from tests.labs.support import ROOT, solution_of


def test_a_stub_keeps_the_cell_magic_and_shows_the_hint():
    source = (
        "%%writefile my-functions/transform/app.py\nimport base64\n\ndef handler(e, c):\n    pass"
    )
    hint = "Return one result per recordId: `Ok`, `Dropped` or `ProcessingFailed`. " * 3
    text = labs.stub(source, hint)
    lines = text.splitlines()
    assert lines[0] == "%%writefile my-functions/transform/app.py"
    assert lines[1].startswith("# TODO: Return one result per recordId")
    assert all(line.startswith("#") and len(line) <= labs.WIDTH for line in lines[1:])
    assert "import base64" not in text
    assert labs.stub("s3.put_bucket_notification_configuration(...)", "Use X.") == "# TODO: Use X."


def test_a_solution_cell_without_a_hint_is_refused():
    with pytest.raises(ValueError, match="needs a hint"):
        labs.stub("x = 1", " ")


def notebook():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Lab"),
        nbformat.v4.new_code_cell("lab = start()"),
        nbformat.v4.new_code_cell("answer = 42", metadata={"tags": ["solution"], "hint": "H."}),
        nbformat.v4.new_markdown_cell("Why 42", metadata={"tags": ["solution"]}),
        nbformat.v4.new_code_cell("check.answer(lab)", metadata={"tags": ["check"]}),
    ]
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i}"
        if cell.cell_type == "code":
            cell.execution_count = i
            cell.outputs = [nbformat.v4.new_output("stream", text="out\n")]
    return nb


def test_the_student_notebook_stubs_solutions_drops_their_notes_and_clears_outputs():
    solution = notebook()
    before = nbformat.writes(solution)
    student = labs.student_notebook(solution)
    assert nbformat.writes(solution) == before, "the solution is not changed"
    assert [c.id for c in student.cells] == ["cell-0", "cell-1", "cell-2", "cell-4"]
    stubbed = student.cells[2]
    assert stubbed.source == "# TODO: H."
    assert stubbed.metadata["tags"] == ["todo"] and "hint" not in stubbed.metadata
    code = [c for c in student.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    assert labs.render(student) == labs.render(labs.student_notebook(notebook()))


def test_student_path_refuses_what_is_not_a_solution(tmp_path):
    good = tmp_path / "labs/01-myblog/solution/01-myblog-solution.ipynb"
    assert labs.student_path(good) == tmp_path / "labs/01-myblog/student/01-myblog-student.ipynb"
    with pytest.raises(ValueError, match="expected labs/NN-arch/solution"):
        labs.student_path(tmp_path / "labs/01-myblog/01-myblog.ipynb")


def test_every_lab_has_a_solution_and_a_committed_student_notebook():
    found = [p.parent.parent.name for p in labs.solutions(ROOT)]
    assert found == list(checks.LABS)
    for path in labs.solutions(ROOT):
        assert labs.student_path(path).is_file()


def test_regenerating_the_student_notebooks_changes_nothing(capsys):
    assert labs.generate(ROOT, check=True) == []
    assert main(["student", "--check"]) == 0
    assert "up to date" in capsys.readouterr().out


@pytest.mark.parametrize("lab", list(checks.LABS))
def test_each_check_follows_its_exercise_once_in_order(lab):
    nb = nbformat.read(solution_of(lab), as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code"]
    called = [check_name(c.source) for c in cells if "check" in c.metadata.get("tags", [])]
    assert called == [c.name for c in checks.checks_of(lab)]
    since_last_check = 0
    for i, cell in enumerate(cells):
        tags = cell.metadata.get("tags", [])
        if "solution" in tags:
            assert cell.metadata.get("hint"), f"solution cell {i} of {lab} has a hint"
            since_last_check += 1
        if "check" in tags:
            assert since_last_check, (
                f"check.{check_name(cell.source)} of {lab} follows an exercise (a solution cell)"
            )
            since_last_check = 0


class FakeLab:
    backend = "moto"


def test_a_check_prints_what_it_verified_and_records_a_pass(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LABBOOK_HOME", str(tmp_path))

    @check("01-myblog", "a demo check")
    def demo(lab, fine=True):
        checks.expect(fine, "the demo is not fine: make it fine")
        return "all fine"

    try:
        assert demo(FakeLab()) == "all fine"
        assert capsys.readouterr().out == "✓ a demo check: all fine\n"
        with pytest.raises(CheckFailed) as failed:
            demo(FakeLab(), fine=False)
        assert failed.value._render_traceback_() == [
            "✗ a demo check",
            "  the demo is not fine: make it fine",
        ]
        assert isinstance(failed.value, AssertionError)
        entry = progress.load()["labs"]["01-myblog"]["demo"]
        assert entry["passed"] and entry["last"] == "failed" and entry["backend"] == "moto"
    finally:
        checks.REGISTRY["01-myblog"].remove(demo.check)


def test_a_check_for_an_unknown_lab_is_refused():
    with pytest.raises(ValueError, match="unknown lab"):
        check("09-nothing", "x")
    with pytest.raises(Mistake):
        checks.expect([], "empty")


@pytest.mark.notebook
def test_grading_counts_each_check_once_whatever_the_learner_did(tmp_path, monkeypatch):
    monkeypatch.setenv("LABBOOK_HOME", str(tmp_path / "grader"))
    monkeypatch.setenv("LAB_BACKEND", "aws")  # the grader's shell: grading stays offline
    nb = nbformat.read(labs.student_path(solution_of("01-myblog")), as_version=4)
    cells = []
    for cell in nb.cells:
        name = check_name(cell.source) if "check" in cell.metadata.get("tags", []) else None
        if name == "thumbnail_trigger":  # a check run twice counts once
            cells += [cell, nbformat.v4.new_code_cell(cell.source, metadata=cell.metadata)]
        elif name == "fanout_queue":  # a cell calling two checks is not a check cell
            cell.source = "check.fanout_queue(lab)\ncheck.thumbnail_trigger(lab)"
            cells.append(cell)
        elif name == "thumbnail_consumer":  # deleted
            continue
        elif name == "thumbnails_made":  # a cell that hangs before it is interrupted
            cells += [nbformat.v4.new_code_cell("import time\ntime.sleep(120)"), cell]
        else:
            cells.append(cell)
    nb.cells = cells
    path = tmp_path / "submission.ipynb"
    nbformat.write(nb, path)

    results = labs.grade(path, ROOT, timeout=30)
    assert [r.name for r in results] == [c.name for c in checks.checks_of("01-myblog")]
    by_name = {r.name: r for r in results}
    assert by_name["thumbnail_trigger"].ename == "CheckFailed"
    assert "no SNS topic" in by_name["thumbnail_trigger"].evalue
    assert by_name["fanout_queue"].ename == "Missing"
    assert by_name["thumbnail_consumer"].ename == "Missing"
    # the hanging cell was interrupted after 30 s and the run carried on to the last check
    assert by_name["thumbnails_made"].ename == "CheckFailed"
    assert not (tmp_path / "grader" / "progress.json").exists(), (
        "the grader's progress is untouched"
    )


def test_grading_refuses_a_notebook_that_is_not_a_lab(tmp_path, capsys):
    nb = nbformat.v4.new_notebook()
    path = tmp_path / "mine.ipynb"
    nbformat.write(nb, path)
    assert main(["grade", str(path)]) == 2
    assert "not a lab notebook made by `labbook student`" in capsys.readouterr().err
    nb.metadata["labbook"] = {"lab": "../.."}
    nbformat.write(nb, path)
    assert main(["grade", str(path)]) == 2
    assert "which is not one of 01-myblog" in capsys.readouterr().err


def test_a_progress_file_of_the_wrong_shape_is_set_aside(tmp_path, monkeypatch):
    monkeypatch.setenv("LABBOOK_HOME", str(tmp_path))
    for damaged in ("[]", '{"labs": []}', '{"labs": {"01-myblog": 3}}', '{"quiz": {}}'):
        progress.path().write_text(damaged)
        progress.record_check("01-myblog", "thumbnail_trigger", True, "moto")
        assert progress.load()["labs"]["01-myblog"]["thumbnail_trigger"]["passed"] is True
    assert len(list(tmp_path.glob("progress.damaged-*.json"))) >= 1


def test_progress_that_cannot_be_saved_does_not_stop_a_check(tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    home.write_text("a file where the folder should be")
    monkeypatch.setenv("LABBOOK_HOME", str(home))
    progress.record_check("01-myblog", "thumbnail_trigger", True, "moto")
    assert "progress not saved" in capsys.readouterr().err


def test_a_lab_gives_the_chapters_own_functions_unchanged():
    # a lab folder is handed out and graded on its own, so it carries copies of the chapter
    # handlers it deploys as given: they must stay the chapter's, byte for byte (lab 02's orders
    # and notifications are the lab's own, written for its exercises)
    for lab, name in (("01-myblog", "thumbnail"), ("04-software-updates", "publisher")):
        given = ROOT / "labs" / lab / "functions" / name / "app.py"
        chapter = ROOT / "notebooks" / lab / "functions" / name / "app.py"
        assert given.read_bytes() == chapter.read_bytes(), f"{given} differs from {chapter}"
