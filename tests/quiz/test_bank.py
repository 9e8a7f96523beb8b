"""The question bank: well-formed, in the exam's style, and covering every point of every
architecture's notebook (its Overview requirements and its Summary points), each question linked
to a section of that notebook."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import nbformat
import pytest

from helpers import quiz

ROOT = Path(__file__).resolve().parents[2]
ARCHITECTURES = sorted(p.name for p in ROOT.glob("notebooks/0[1-9]-*") if p.is_dir())
KEYS = [name.split("-", 1)[1] for name in ARCHITECTURES]
CHOOSE_WORDS = {2: "(Choose two.)", 3: "(Choose three.)"}


def markdown(notebook: str) -> list[str]:
    nb = nbformat.read(ROOT / notebook, as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "markdown"]


def section(cells: list[str], heading: str) -> str:
    """The text of the cell that holds a `## heading`."""
    found = [c for c in cells if re.search(rf"^## {re.escape(heading)}\s*$", c, re.M)]
    assert len(found) == 1, f"one cell with '## {heading}'"
    return found[0].split(f"## {heading}", 1)[1]


def notebook_points(notebook: str) -> tuple[set[str], set[str]]:
    """The Overview table's first column and the Summary bullets' bold leads, as written."""
    cells = markdown(notebook)
    overview = section(cells, "Overview")
    rows = [line for line in overview.splitlines() if line.startswith("|")]
    requirements = {row.split("|")[1].strip() for row in rows[2:]}  # after header and rule
    summary = section(cells, "Summary").split("## What's next")[0]
    bullets = re.split(r"^- ", summary, flags=re.M)[1:]
    leads = {re.search(r"\*\*(.+?)\*\*", b).group(1) for b in bullets}
    return requirements, leads


def headings(notebook: str) -> set[str]:
    return {
        line.lstrip("#").strip()
        for cell in markdown(notebook)
        for line in cell.splitlines()
        if re.match(r"#{1,6} ", line)
    }


def test_the_bank_is_a_list_of_questions_from_every_architecture():
    bank = quiz.load_bank()
    assert isinstance(bank, list) and all(isinstance(q, quiz.Question) for q in bank)
    assert sorted({q.architecture for q in bank}) == sorted(KEYS)
    assert len({q.id for q in bank}) == len(bank), "question ids are unique"


def test_every_architecture_notebook_has_its_file():
    assert [a.notebook for a in quiz.architectures()] == [
        f"notebooks/{name}/{name}.ipynb" for name in ARCHITECTURES
    ]


@pytest.mark.parametrize("key", KEYS)
def test_at_least_twelve_questions_single_and_multiple_answer(key):
    questions = quiz.load_bank(key)
    assert len(questions) >= 12
    kinds = Counter(q.choose for q in questions)
    assert kinds[1] >= 6 and kinds[2] + kinds[3] >= 3, kinds


@pytest.mark.parametrize("key", KEYS)
def test_points_are_the_notebooks_requirements_and_summary(key):
    arch = quiz.architecture(key)
    requirements, summary = notebook_points(arch.notebook)
    assert {p.text for p in arch.points if p.kind == "requirement"} == requirements
    assert {p.text for p in arch.points if p.kind == "summary"} == summary


@pytest.mark.parametrize("key", KEYS)
def test_every_point_is_covered_by_a_question(key):
    arch = quiz.architecture(key)
    covered = {p.id for q in arch.questions for p in q.covers}
    assert [p.text for p in arch.points if p.id not in covered] == []


@pytest.mark.parametrize("key", KEYS)
def test_every_question_links_a_section_of_its_notebook(key):
    arch = quiz.architecture(key)
    known = headings(arch.notebook)
    assert [q.id for q in arch.questions if q.section not in known] == []
    for q in arch.questions:
        assert q.link.startswith(f"{arch.notebook}#")


def test_links_use_jupyterlabs_heading_anchors():
    # JupyterLab keeps a heading's text and case and turns its spaces into hyphens
    q = next(q for q in quiz.load_bank("myblog") if q.section.startswith("6 · "))
    assert q.link == (
        "notebooks/01-myblog/01-myblog.ipynb#6-·-Every-photo-uploaded-gets-a-thumbnail"
    )


@pytest.mark.parametrize("key", KEYS)
def test_questions_read_like_the_exam(key):
    for q in quiz.load_bank(key):
        assert len(q.question) >= 80, f"{q.id}: a scenario, not a one-liner"
        if q.choose > 1:
            assert q.question.endswith(CHOOSE_WORDS[q.choose]), f"{q.id} says how many to choose"
        else:
            assert q.question.endswith(("?", ".")), q.id
        texts = [o.text for o in q.options]
        assert len(set(texts)) == len(texts), f"{q.id}: options differ"
        whys = [o.why for o in q.options]
        assert len(set(whys)) == len(whys), f"{q.id}: each option has its own explanation"
        assert all(len(w) >= 40 for w in whys), f"{q.id}: explanations say why"


@pytest.mark.parametrize("key", KEYS)
def test_the_right_answer_is_not_always_in_one_place(key):
    places = Counter(
        i
        for q in quiz.load_bank(key)
        if q.choose == 1
        for i, o in enumerate(q.options)
        if o.correct
    )
    assert len(places) >= 3, f"single answers sit at {dict(places)}"
    assert max(places.values()) <= 0.5 * sum(places.values())


def test_the_bank_has_at_least_sixty_questions():
    assert len(quiz.load_bank()) >= 12 * len(KEYS)


@pytest.mark.parametrize("key", KEYS)
def test_the_right_answer_is_not_given_away_by_its_length(key):
    # on the exam, distractors are as long and as specific as the answer: a bank whose right
    # option is usually the longest teaches guessing, not AWS
    singles = [q for q in quiz.load_bank(key) if q.choose == 1]
    longest = []
    for q in singles:
        lengths = [len(o.text) for o in q.options]
        top = max(lengths)
        if lengths.count(top) == 1 and q.options[lengths.index(top)].correct:
            longest.append(q.id)
    assert len(longest) <= max(4, len(singles) // 3), longest
