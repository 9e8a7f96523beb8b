"""`labbook serve`: which notebook builds a chapter's lab, and where its clean-up starts."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from helpers.cli import main
from helpers.serve import build_cells, find_notebook

ROOT = Path(__file__).resolve().parents[1]


def test_a_chapter_is_found_by_its_name_or_its_folder():
    expected = ROOT / "notebooks" / "01-myblog" / "01-myblog.ipynb"
    assert find_notebook("myblog", ROOT) == expected
    assert find_notebook("01-myblog", ROOT) == expected


def test_an_unknown_chapter_names_the_known_ones():
    with pytest.raises(ValueError, match="no chapter named 'blog'.*myblog"):
        find_notebook("blog", ROOT)


def test_the_lab_is_built_by_every_code_cell_before_the_teardown():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# title"),
        nbformat.v4.new_code_cell("lab = helpers.start('x')"),
        nbformat.v4.new_code_cell(""),
        nbformat.v4.new_code_cell("s3.create_bucket(Bucket=b)"),
        nbformat.v4.new_code_cell("report = lab.teardown()"),
        nbformat.v4.new_code_cell("assert report.clean"),
    ]
    assert build_cells(nb) == ([1, 3], [4, 5])


def test_a_notebook_without_a_teardown_cannot_be_served():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("lab = helpers.start('x')")]
    with pytest.raises(ValueError, match=r"no `lab.teardown\(\)` cell"):
        build_cells(nb)


def test_the_cli_refuses_an_unknown_chapter_in_one_line(capsys):
    assert main(["serve", "nope", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("labbook: error: no chapter named 'nope'")
