"""helpers.quiz: reading the bank, answers, practice and timed exams, the notebook checkpoint."""

from __future__ import annotations

import io
import json
import textwrap

import pytest

from helpers import progress, quiz

GOOD = """
architecture: demo
title: Demo
notebook: notebooks/01-demo/01-demo.ipynb
points:
  - {id: p1, kind: requirement, text: the site scales globally}
questions:
  - id: demo-1
    covers: [p1]
    section: 1 · Static content, globally
    choose: 1
    question: A company wants a site that scales. Which service?
    options:
      - {text: CloudFront, correct: true, why: CloudFront caches at edge locations worldwide.}
      - {text: EC2, why: One instance does not scale by itself.}
      - {text: EBS, why: A block volume is not a web front.}
      - {text: EFS, why: A file system serves no HTTP.}
"""


def read(tmp_path, text):
    path = tmp_path / "demo.yaml"
    path.write_text(textwrap.dedent(text))
    return quiz._read(path)


def test_a_well_formed_file_reads(tmp_path):
    (q,) = read(tmp_path, GOOD).questions
    assert q.answer == {"A"} and q.choose == 1 and q.covers[0].id == "p1"
    assert q.link == "notebooks/01-demo/01-demo.ipynb#1-·-Static-content,-globally"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("correct: true", "correct: false"), "0 options marked correct, but choose is 1"),
        (("choose: 1", "choose: 2"), "5"),
        (("covers: [p1]", "covers: [p9]"), "unknown point(s) ['p9']"),
        (("choose: 1", "choose: 7"), "`choose` must be 1, 2 or 3"),
        (("why: One instance does not scale by itself.", "wyh: x"), "`why` is missing"),
        (("kind: requirement", "kind: wish"), "kind must be requirement or summary"),
    ],
)
def test_a_malformed_file_names_the_question_and_the_fix(tmp_path, change, message):
    with pytest.raises(quiz.BankError) as error:
        read(tmp_path, GOOD.replace(*change))
    assert message in str(error.value)
    assert "demo.yaml" in str(error.value)


def test_an_unknown_architecture_lists_the_known_ones():
    with pytest.raises(KeyError, match="myblog"):
        quiz.load_bank("nope")


def question(choose=1):
    return next(q for q in quiz.load_bank() if q.choose == choose)


@pytest.mark.parametrize("typed", ["a", "A", " a "])
def test_answers_are_letters(typed):
    q = question()
    assert quiz.parse_answer(typed, q) == {"A"}


def test_a_multiple_answer_question_wants_as_many_letters_as_it_says():
    q = question(2)
    assert quiz.parse_answer("a, c", q) == {"A", "C"}
    assert quiz.parse_answer("CA", q) == {"A", "C"}
    with pytest.raises(ValueError, match="choose 2 letters"):
        quiz.parse_answer("a", q)
    with pytest.raises(ValueError, match="answer with letters A–E"):
        quiz.parse_answer("z", q)


def scripted(*answers):
    typed = iter(answers)

    def read(prompt):
        try:
            return next(typed)
        except StopIteration:
            raise EOFError from None

    return read


def right(q):
    return ",".join(sorted(q.answer))


def wrong(q):
    letters = [x for x in quiz.LETTERS[: len(q.options)] if x not in q.answer]
    return ",".join(letters[: q.choose])


def test_practice_explains_every_option_after_each_answer():
    q1, q2 = quiz.load_bank("myblog")[:2]
    out = io.StringIO()
    result = quiz.run_quiz([q1, q2], read=scripted(right(q1), "zz", wrong(q2)), out=out)
    text = out.getvalue()
    assert result.score == 1 and len(result.asked) == 2
    assert "✓ right" in text and "✗ not quite" in text
    assert "answer with letters" in text  # the malformed answer was asked again
    for o in q2.options:
        assert " ".join(o.why.split())[:30] in " ".join(text.split())
    assert q2.link in text


def test_stopping_early_counts_what_was_answered():
    q1, q2 = quiz.load_bank("myblog")[:2]
    result = quiz.run_quiz([q1, q2], read=scripted(right(q1), "q"), out=io.StringIO())
    assert (result.score, len(result.asked)) == (1, 1)


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_an_exam_stops_at_its_time_limit_and_counts_the_rest_as_missed():
    questions = quiz.load_bank("paid-content")[:4]
    clock = FakeClock()

    def read(prompt):
        clock.now += 50  # 50 s per answer, 120 s allowed for the whole exam
        return right(questions[int(clock.now // 50) - 1])

    out = io.StringIO()
    result = quiz.run_quiz(
        questions, mode="exam", limit_seconds=120, read=read, out=out, clock=clock
    )
    assert len(result.asked) == 4 and result.score == 2  # two in time, the third too late
    assert "not counted" in out.getvalue()
    assert "✓ right" not in out.getvalue()  # no explanation during an exam
    report = quiz.format_result(result)
    assert "Score: 2/4 (50 %)" in report and "not yet a pass" in report
    assert report.count("Missed: ") == 2
    assert questions[3].options[0].why.split()[0] in report


def test_an_exam_passes_at_seventy_two_percent():
    questions = quiz.load_bank("myblog")[:4]
    answers = [right(q) for q in questions[:3]] + [wrong(questions[3])]
    result = quiz.run_quiz(questions, mode="exam", read=scripted(*answers), out=io.StringIO())
    assert "Score: 3/4 (75 %)" in quiz.format_result(result)
    assert "pass:" in quiz.format_result(result)


def test_scores_are_kept_in_progress():
    before = len(progress.load()["quiz"])
    q = quiz.load_bank("myblog")[0]
    quiz.run_quiz([q], architecture="myblog", read=scripted(right(q)), out=io.StringIO())
    last = progress.load()["quiz"][-1]
    assert len(progress.load()["quiz"]) == before + 1
    assert (last["architecture"], last["mode"], last["score"], last["total"]) == (
        "myblog",
        "practice",
        1,
        1,
    )


def test_an_exam_draws_from_every_architecture_and_repeats_with_a_seed():
    bank = quiz.load_bank()
    exam = quiz.exam_questions(bank, 10, seed=3)
    assert len(exam) == len(set(exam)) == 10
    assert len({q.architecture for q in exam}) == 5
    assert exam == quiz.exam_questions(bank, 10, seed=3)
    with pytest.raises(ValueError, match="ask for"):
        quiz.exam_questions(bank, len(bank) + 1)


def test_the_checkpoint_renders_static_html_and_text_outside_a_kernel():
    cp = quiz.checkpoint("myblog")
    bundle = cp._repr_mimebundle_()
    assert cp.widget is None and "application/vnd.jupyter.widget-view+json" not in bundle
    html = bundle["text/html"]
    questions = quiz.load_bank("myblog")
    assert html.count("<details>") == len(questions)
    assert html.count('<ol type="A">') == 2 * len(questions)
    assert f'href="#{quiz.anchor(questions[0].section)}"' in html


def test_a_damaged_progress_file_is_set_aside(tmp_path, monkeypatch):
    monkeypatch.setenv("LABBOOK_HOME", str(tmp_path))
    progress.path().write_text("{not json")
    assert progress.load() == {"labs": {}, "quiz": []}
    assert list(tmp_path.glob("progress.damaged-*.json"))
    progress.record_check("01-myblog", "thumbnail_trigger", True, "moto")
    progress.record_check("01-myblog", "thumbnail_trigger", False, "moto")
    entry = json.loads(progress.path().read_text())["labs"]["01-myblog"]["thumbnail_trigger"]
    assert entry["passed"] is True and entry["last"] == "failed" and entry["runs"] == 2


def test_in_a_kernel_each_question_is_answered_with_widgets(monkeypatch, tmp_path):
    monkeypatch.setenv("LABBOOK_HOME", str(tmp_path))
    monkeypatch.setattr(quiz, "_in_kernel", lambda: True)
    cp = quiz.checkpoint("myblog")
    bundle = cp._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == cp.widget.model_id
    assert "<details>" in bundle["text/html"]  # the fallback travels with the widget
    *boxes, score = cp.widget.children
    assert len(boxes) == len(cp.questions)
    for q, box in zip(cp.questions, boxes, strict=True):
        title, picker, button, feedback = box.children
        assert all(f"<li>{quiz._inline(o.text)}</li>" in title.value for o in q.options)
        if q.choose == 1:
            assert list(picker.options) == ["A", "B", "C", "D"]
            picker.value = next(x for x in "ABCD" if x not in q.answer)
        else:
            picker.children[0].value = True  # too few ticks first
            button.click()
            assert f"Choose {q.choose}" in feedback.value
            for i, tick in enumerate(picker.children):
                tick.value = quiz.LETTERS[i] in q.answer
        button.click()
        verdict = "Not quite" if q.choose == 1 else "Right"
        assert verdict in feedback.value
        assert feedback.value.count("<li>") == len(q.options)
    right = sum(1 for q in cp.questions if q.choose > 1)
    assert f"Score: {right}/{len(cp.questions)}" in score.value
    last = progress.load()["quiz"][-1]
    assert (last["mode"], last["score"], last["total"]) == ("checkpoint", right, len(cp.questions))
