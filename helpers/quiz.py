"""Exam questions: the bank, a notebook checkpoint, practice and timed exams in the terminal.

The bank is one YAML file per architecture under `helpers/questions/`: the points the notebook
makes (its Overview's requirements and its Summary's bullets) and scenario questions in the
style of the AWS Certified Solutions Architect – Associate exam, single or multiple answer, each
option explained, each question tied to the points it covers and to the notebook section that
demonstrates it. `load_bank()` reads and validates it; nothing here knows a backend.
"""

from __future__ import annotations

import html
import random
import re
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TextIO

import yaml

from . import progress

BANK = Path(__file__).parent / "questions"
LETTERS = "ABCDEF"
OPTIONS_FOR = {1: 4, 2: 5, 3: 6}  # options shown for single answer, choose two, choose three
SECONDS_PER_QUESTION = 120  # the exam's pace: 65 questions in 130 minutes
# the exam passes at a scaled 720 of 1,000; AWS's scaling is not a plain percentage, so 72 % of
# these questions is a rough guide only
PASS_PERCENT = 72


class BankError(ValueError):
    """A question file that does not follow the format (names the file, the question, the fix)."""


@dataclass(frozen=True)
class Point:
    """A requirement (Overview table) or summary point (Summary bullet) of an architecture."""

    id: str
    kind: str
    text: str


@dataclass(frozen=True)
class Option:
    """One answer option and why it is right or wrong."""

    text: str
    correct: bool
    why: str


@dataclass(frozen=True)
class Question:
    """One exam question of the bank."""

    id: str
    architecture: str
    question: str
    options: tuple[Option, ...]
    choose: int
    covers: tuple[Point, ...]
    section: str
    notebook: str

    @property
    def answer(self) -> frozenset[str]:
        """The letters of the correct options."""
        return frozenset(LETTERS[i] for i, o in enumerate(self.options) if o.correct)

    @property
    def link(self) -> str:
        """The notebook section that demonstrates the answer, as a repository-relative link."""
        return f"{self.notebook}#{anchor(self.section)}"

    def is_right(self, letters: frozenset[str] | set[str]) -> bool:
        """True when the letters are exactly the correct options."""
        return frozenset(letters) == self.answer


def anchor(heading: str) -> str:
    """The anchor JupyterLab gives a Markdown heading: its text with spaces made hyphens."""
    return heading.strip().replace(" ", "-")


@dataclass(frozen=True)
class Architecture:
    """One architecture's file of the bank."""

    key: str
    title: str
    notebook: str
    points: tuple[Point, ...]
    questions: tuple[Question, ...]


def _need(data: dict[str, Any], key: str, kind: type, where: str) -> Any:
    value = data.get(key)
    if not isinstance(value, kind) or (isinstance(value, str | list) and not value):
        raise BankError(f"{where}: `{key}` is missing or not a {kind.__name__}; add it")
    return value


def _read(path: Path) -> Architecture:
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise BankError(f"{path.name}: not valid YAML ({error})") from None
    where = path.name
    if not isinstance(data, dict):
        raise BankError(f"{where}: expected a mapping with architecture, points and questions")
    key = _need(data, "architecture", str, where)
    points = {}
    for entry in _need(data, "points", list, where):
        point = Point(
            _need(entry, "id", str, f"{where} point"),
            _need(entry, "kind", str, f"{where} point"),
            _need(entry, "text", str, f"{where} point"),
        )
        if point.kind not in ("requirement", "summary"):
            raise BankError(f"{where}: point {point.id} kind must be requirement or summary")
        if point.id in points:
            raise BankError(f"{where}: point id {point.id} appears twice")
        points[point.id] = point
    notebook = _need(data, "notebook", str, where)
    questions = []
    for entry in _need(data, "questions", list, where):
        qid = _need(entry, "id", str, f"{where} question")
        here = f"{where} question {qid}"
        choose = entry.get("choose", 1)
        if choose not in OPTIONS_FOR:
            raise BankError(f"{here}: `choose` must be 1, 2 or 3, not {choose!r}")
        options = tuple(
            Option(
                _need(o, "text", str, f"{here} option"),
                o.get("correct") is True,
                _need(o, "why", str, f"{here} option {o.get('text', '')[:30]!r}"),
            )
            for o in _need(entry, "options", list, here)
        )
        if len(options) != OPTIONS_FOR[choose]:
            raise BankError(
                f"{here}: {len(options)} options; a question with choose: {choose} has "
                f"{OPTIONS_FOR[choose]}"
            )
        right = sum(o.correct for o in options)
        if right != choose:
            raise BankError(f"{here}: {right} options marked correct, but choose is {choose}")
        unknown = [c for c in _need(entry, "covers", list, here) if c not in points]
        if unknown:
            raise BankError(f"{here}: covers unknown point(s) {unknown}; use ids from `points`")
        questions.append(
            Question(
                id=qid,
                architecture=key,
                question=" ".join(_need(entry, "question", str, here).split()),
                options=options,
                choose=choose,
                covers=tuple(points[c] for c in entry["covers"]),
                section=_need(entry, "section", str, here),
                notebook=notebook,
            )
        )
    return Architecture(
        key, _need(data, "title", str, where), notebook, tuple(points.values()), tuple(questions)
    )


@cache
def _files() -> tuple[Architecture, ...]:
    found = tuple(_read(p) for p in sorted(BANK.glob("*.yaml")))
    seen: set[str] = set()
    for arch in found:
        for q in arch.questions:
            if q.id in seen:
                raise BankError(f"question id {q.id} appears twice in the bank; make it unique")
            seen.add(q.id)
    return found


def architectures() -> list[Architecture]:
    """Every architecture of the bank, in course order."""
    return list(_files())


def architecture(key: str) -> Architecture:
    """One architecture by its key (`myblog`, `paid-content`, ...); a clear error otherwise."""
    for arch in _files():
        if arch.key == key:
            return arch
    known = ", ".join(a.key for a in _files())
    raise KeyError(f"no questions for {key!r}; architectures are: {known}")


def load_bank(key: str | None = None) -> list[Question]:
    """The whole question bank (or one architecture's questions), validated, in course order."""
    if key is not None:
        return list(architecture(key).questions)
    return [q for arch in _files() for q in arch.questions]


def parse_answer(text: str, question: Question) -> frozenset[str]:
    """Letters typed by a learner ('b', 'A,C', 'a c') as a set; ValueError says what to type."""
    letters = frozenset(re.sub(r"[\s,;]+", "", text.upper()))
    valid = LETTERS[: len(question.options)]
    if not letters or not letters <= set(valid):
        raise ValueError(f"answer with letters {valid[0]}–{valid[-1]}")
    if len(letters) != question.choose:
        raise ValueError(f"choose {question.choose} letter{'s' if question.choose > 1 else ''}")
    return letters


# --- the terminal ---------------------------------------------------------------------------


def _wrap(text: str, first: str = "", rest: str | None = None) -> str:
    return textwrap.fill(
        text, 96, initial_indent=first, subsequent_indent=first if rest is None else rest
    )


def format_question(q: Question, number: int, total: int) -> str:
    """A question as the terminal shows it."""
    lines = [f"Question {number}/{total} · {q.architecture}", _wrap(q.question), ""]
    lines += [_wrap(f"{LETTERS[i]}. {o.text}", "  ", "     ") for i, o in enumerate(q.options)]
    return "\n".join(lines)


def format_explanation(q: Question, given: frozenset[str] | None) -> str:
    """Every option explained, with the answer, what was given and where the notebook shows it."""
    head = f"Answer: {','.join(sorted(q.answer))}"
    head += f" · yours: {','.join(sorted(given))}" if given else " · yours: unanswered"
    lines = [head]
    for i, o in enumerate(q.options):
        mark = "✓" if o.correct else "✗"
        lines.append(_wrap(f"{mark} {LETTERS[i]}. {o.why}", "  ", "       "))
    lines.append(f"  See {q.link}")
    return "\n".join(lines)


@dataclass
class Result:
    """The outcome of a practice round or an exam."""

    mode: str
    architecture: str
    asked: list[Question]
    given: list[frozenset[str] | None]
    seconds: float

    @property
    def score(self) -> int:
        return sum(1 for q, g in zip(self.asked, self.given, strict=True) if g and q.is_right(g))

    @property
    def missed(self) -> list[tuple[Question, frozenset[str] | None]]:
        pairs = zip(self.asked, self.given, strict=True)
        return [(q, g) for q, g in pairs if not (g and q.is_right(g))]


def _ask(
    q: Question, read: Callable[[str], str], out: TextIO, prompt: str
) -> frozenset[str] | None:
    """Read an answer until it is well-formed; None when the learner stops (q or end of input)."""
    while True:
        try:
            text = read(prompt).strip()
        except EOFError:
            return None
        if text.lower() in ("q", "quit", "exit"):
            return None
        try:
            return parse_answer(text, q)
        except ValueError as error:
            print(f"  {error}", file=out)


def run_quiz(
    questions: Sequence[Question],
    *,
    mode: str = "practice",
    architecture: str = "all",
    limit_seconds: float | None = None,
    read: Callable[[str], str] | None = None,
    out: TextIO | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Result:
    """Ask the questions in the terminal. Practice explains each answer at once; an exam keeps
    explanations for the end and stops at the time limit. The result is kept in progress."""
    read = read or input
    out = out or sys.stdout
    start = clock()
    asked: list[Question] = []
    given: list[frozenset[str] | None] = []
    for number, q in enumerate(questions, 1):
        left = None if limit_seconds is None else limit_seconds - (clock() - start)
        if left is not None and left <= 0:
            print("\nTime is up.", file=out)
            break
        print("\n" + format_question(q, number, len(questions)), file=out)
        choose = "" if q.choose == 1 else f" (choose {q.choose})"
        clock_text = "" if left is None else f" [{int(left) // 60}:{int(left) % 60:02d} left]"
        # input() cannot be interrupted portably: the clock is read when the answer comes
        answer = _ask(q, read, out, f"Your answer{choose}{clock_text}, q to stop: ")
        if answer is None:
            break
        if limit_seconds is not None and clock() - start > limit_seconds:
            print("Time was up before this answer; it is not counted.", file=out)
            asked.append(q)
            given.append(None)
            break
        asked.append(q)
        given.append(answer)
        if mode == "practice":
            verdict = "✓ right" if q.is_right(answer) else "✗ not quite"
            print(f"{verdict}\n{format_explanation(q, answer)}", file=out)
    if mode == "exam":  # questions never reached count as missed
        for q in questions[len(asked) :]:
            asked.append(q)
            given.append(None)
    result = Result(mode, architecture, asked, given, clock() - start)
    if asked:
        progress.record_quiz(architecture, mode, result.score, len(asked), result.seconds)
    return result


def format_result(result: Result) -> str:
    """The score, and in an exam the explanation of every question missed."""
    total = len(result.asked)
    if not total:
        return "No question answered."
    percent = round(100 * result.score / total)
    lines = [f"\nScore: {result.score}/{total} ({percent} %) in {round(result.seconds)} s"]
    if result.mode == "exam":
        verdict = "pass" if percent >= PASS_PERCENT else "not yet a pass"
        lines.append(
            f"{verdict}: the real exam passes at a scaled 720 of 1,000; {PASS_PERCENT} % here is "
            "a rough guide, not the same scale"
        )
        for q, given in result.missed:
            lines += ["", "Missed: " + _wrap(q.question), format_explanation(q, given)]
    return "\n".join(lines)


def exam_questions(pool: Sequence[Question], count: int, seed: int | None = None) -> list[Question]:
    """A random exam of `count` questions from the pool, spread over its architectures."""
    if count < 1:
        raise ValueError("an exam needs at least 1 question")
    if count > len(pool):
        raise ValueError(f"the bank has {len(pool)} questions here; ask for {len(pool)} or fewer")
    rng = random.Random(seed)
    by_arch: dict[str, list[Question]] = {}
    for q in pool:
        by_arch.setdefault(q.architecture, []).append(q)
    for group in by_arch.values():
        rng.shuffle(group)
    picked: list[Question] = []
    while len(picked) < count:  # round robin over the architectures keeps every one present
        for group in by_arch.values():
            if group and len(picked) < count:
                picked.append(group.pop())
    rng.shuffle(picked)
    return picked


# --- the notebook checkpoint ----------------------------------------------------------------


def _inline(text: str) -> str:
    """Plain text with `code` as HTML."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text, quote=False))


def checkpoint_html(key: str) -> str:
    """An architecture's questions as static HTML: answers and explanations folded away."""
    parts = []
    for n, q in enumerate(load_bank(key), 1):
        items = "".join(f"<li>{_inline(o.text)}</li>" for o in q.options)
        whys = "".join(f"<li>{'✓' if o.correct else '✗'} {_inline(o.why)}</li>" for o in q.options)
        answer = ", ".join(sorted(q.answer))
        parts.append(
            f"<p><b>{n}.</b> {_inline(q.question)}</p>"
            f'<ol type="A">{items}</ol>'
            f"<details><summary>Answer</summary><p><b>{answer}</b> · "
            f'<a href="#{html.escape(anchor(q.section))}">{html.escape(q.section)}</a></p>'
            f'<ol type="A">{whys}</ol></details>'
        )
    return "\n".join(parts)


def _in_kernel() -> bool:
    """True in a Jupyter kernel, where widgets can reach a frontend."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


class Checkpoint:
    """A notebook's exam checkpoint: interactive widgets in JupyterLab, static HTML elsewhere
    (GitHub, nbval, a frontend without widgets), and in a terminal a line pointing to
    `labbook quiz`."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.questions = load_bank(key)
        self.answered: dict[str, bool] = {}
        self.widget = self._widgets()

    def _widgets(self) -> Any:
        if not _in_kernel():
            return None
        try:
            import ipywidgets as w
        except ImportError:
            return None
        score = w.HTML()
        boxes = [self._question_widget(w, n, q, score) for n, q in enumerate(self.questions, 1)]
        self._score(score)
        return w.VBox([*boxes, score])

    def _question_widget(self, w: Any, n: int, q: Question, score: Any) -> Any:
        # the options' text as HTML (long options wrap cleanly), the choice as letters
        items = "".join(f"<li>{_inline(o.text)}</li>" for o in q.options)
        title = w.HTML(f'<p><b>{n}.</b> {_inline(q.question)}</p><ol type="A">{items}</ol>')
        letters = list(LETTERS[: len(q.options)])
        if q.choose == 1:
            picker = w.ToggleButtons(options=letters, value=None)
            picker.style.button_width = "3em"
            chosen = lambda: {picker.value} if picker.value else set()  # noqa: E731
        else:
            ticks = [
                w.Checkbox(description=x, indent=False, layout=w.Layout(width="4em"))
                for x in letters
            ]
            picker = w.HBox(ticks)
            chosen = lambda: {x for x, t in zip(letters, ticks, strict=True) if t.value}  # noqa: E731
        button = w.Button(description="Check")
        feedback = w.HTML()

        def on_check(_: Any) -> None:
            letters = chosen()
            if len(letters) != q.choose:
                feedback.value = f"<p>Choose {q.choose}.</p>"
                return
            right = q.is_right(letters)
            self.answered.setdefault(q.id, right)  # the first attempt counts
            whys = "".join(
                f"<li>{'✓' if o.correct else '✗'} {_inline(o.why)}</li>" for o in q.options
            )
            feedback.value = (
                f"<p><b>{'✓ Right' if right else '✗ Not quite'}</b> · answer "
                f"{', '.join(sorted(q.answer))} · see "
                f'<a href="#{html.escape(anchor(q.section))}">{html.escape(q.section)}</a></p>'
                f'<ol type="A">{whys}</ol>'
            )
            self._score(score)

        button.on_click(on_check)
        return w.VBox([title, picker, button, feedback])

    def _score(self, score: Any) -> None:
        done, total = len(self.answered), len(self.questions)
        right = sum(self.answered.values())
        score.value = f"<p><b>Score: {right}/{done}</b> answered of {total}</p>"
        if done == total and not getattr(self, "_recorded", False):
            self._recorded = True
            progress.record_quiz(self.key, "checkpoint", right, total)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        bundle: dict[str, Any] = {
            "text/plain": f"{len(self.questions)} exam questions on {self.key}: "
            f"`labbook quiz {self.key}` asks them in a terminal",
            "text/html": checkpoint_html(self.key),
        }
        if self.widget is not None:
            bundle["application/vnd.jupyter.widget-view+json"] = {
                "version_major": 2,
                "version_minor": 0,
                "model_id": self.widget.model_id,
            }
        return bundle


def checkpoint(key: str) -> Checkpoint:
    """Show an architecture's exam questions in a notebook (widgets, with a static fallback)."""
    return Checkpoint(key)
