"""helpers.show.excerpt: a handler's chosen functions, as a notebook shows them."""

from __future__ import annotations

import pytest

from helpers.show import excerpt

SOURCE = '''"""A module."""

import json


def first(event):
    return 1


@staticmethod
def second():
    return 2


class Third:
    pass
'''


def test_only_the_named_definitions_are_shown_in_file_order_with_decorators():
    shown = excerpt(SOURCE, ("Third", "second"), "app.py")

    assert shown.splitlines()[0] == "# app.py: second, Third (also in the file: first)"
    assert "@staticmethod\ndef second():\n    return 2" in shown
    assert shown.index("def second") < shown.index("class Third")
    assert "def first" not in shown and "import json" not in shown


def test_an_unknown_name_is_refused_naming_what_exists():
    with pytest.raises(ValueError, match="defines no top-level fourth; it defines first"):
        excerpt(SOURCE, ("fourth",), "app.py")
