"""`labbook quiz` and `labbook progress`, as a learner types them."""

from __future__ import annotations

import re

import pytest

from helpers import checks, progress, quiz
from helpers.cli import main


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("LABBOOK_HOME", str(tmp_path))
    return tmp_path


def typing(monkeypatch, answers):
    typed = iter(answers)

    def fake_input(prompt=""):
        try:
            return next(typed)
        except StopIteration:
            raise EOFError from None

    monkeypatch.setattr("builtins.input", fake_input)


def test_practice_on_one_architecture_explains_and_scores(home, monkeypatch, capsys):
    typing(monkeypatch, ["a", "q"])
    assert main(["quiz", "01-myblog", "--seed", "4"]) == 0
    out = capsys.readouterr().out
    assert f"Practice: {len(quiz.load_bank('myblog'))} questions on myblog" in out
    assert "Answer: " in out and "See notebooks/01-myblog/01-myblog.ipynb#" in out
    assert "Score: " in out and "/1 " in out
    assert progress.load()["quiz"][-1]["architecture"] == "myblog"


def test_a_timed_exam_reports_the_score_and_explains_the_misses(home, monkeypatch, capsys):
    exam = quiz.exam_questions(quiz.load_bank(), 5, seed=7)
    answers = []
    for q in exam:  # every one wrong
        answers.append(next(x for x in quiz.LETTERS if x not in q.answer) * 1)
        if q.choose > 1:
            answers[-1] = ",".join([x for x in quiz.LETTERS if x not in q.answer][: q.choose])
    typing(monkeypatch, answers)
    assert main(["quiz", "--exam", "5", "--seed", "7"]) == 0
    out = capsys.readouterr().out
    assert "Exam: 5 questions on all, 10 minutes" in out
    assert "Score: 0/5 (0 %)" in out and "not yet a pass" in out
    assert out.count("Missed: ") == 5
    assert "✓ right" not in out and "✗ not quite" not in out  # explanations wait for the end


def test_an_unknown_architecture_or_a_too_long_exam_is_a_usage_error(home, capsys):
    assert main(["quiz", "blog"]) == 2
    assert "choose one of: myblog, microservices" in capsys.readouterr().err
    assert main(["quiz", "myblog", "--exam", "500"]) == 2
    assert "ask for" in capsys.readouterr().err


def test_progress_shows_labs_and_quiz_scores(home, capsys):
    assert main(["progress"]) == 0
    out = capsys.readouterr().out
    assert "not started" in out and "none yet" in out
    first, second = checks.checks_of("01-myblog")[:2]
    progress.record_check("01-myblog", first.name, True, "moto")
    progress.record_quiz("myblog", "exam", 9, 12, 600)
    progress.record_quiz("myblog", "exam", 11, 12, 500)
    progress.record_quiz("myblog", "exam", 1, 1, 60)
    assert main(["progress"]) == 0
    out = capsys.readouterr().out
    total = len(checks.checks_of("01-myblog"))
    assert re.search(rf"01-myblog +1/{total} +next: check\.{second.name}", out)
    # three rounds, the last 1/1; the best of the longest (12 questions) is 11/12, not 1/1
    assert re.search(r"myblog +exam +3 +1/1 \(100 %\) +11/12 \(92 %\)", out)


def test_a_lab_whose_checks_all_passed_is_passed(home, capsys):
    for c in checks.checks_of("02-microservices"):
        progress.record_check("02-microservices", c.name, True, "moto")
    main(["progress"])
    assert "passed" in capsys.readouterr().out.split("02-microservices")[1].splitlines()[0]


def test_an_exam_cut_short_marks_the_rest_unanswered(home, monkeypatch, capsys):
    typing(monkeypatch, [])  # input ends at once
    assert main(["quiz", "--exam", "2", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "Score: 0/2" in out and out.count("yours: unanswered") == 2


@pytest.mark.notebook
def test_grading_prints_each_first_problem_in_full(home, capsys):
    from helpers.labs import student_path
    from tests.labs.support import solution_of

    notebook = student_path(solution_of("03-paid-content"))
    assert main(["grade", str(notebook)]) == 1
    out = capsys.readouterr().out
    assert re.search(r"03-paid-content +0/3 +check\.private_videos \(CheckFailed\)", out)
    said = out.split("What each first problem said:")[1]
    assert "check.private_videos" in said and "Origin Access Control" in said
    assert not (home / "progress.json").exists(), "grading keeps the learners' checks apart"
