"""Lab checks: after each exercise, a visible cell inspects the AWS state and behaviour.

A check is a function of the lab (`check.thumbnail_trigger(lab)`) that reads what the learner
built with the lab's own boto3 clients and HTTP, so it works the same on the offline backends and
on a real account. When something is wrong it names the likely mistake and the fix; a notebook
shows that message without a traceback and stops there, as a failing exercise should. Each
result is kept in the learner's progress (`labbook progress`).

One module per lab (`helpers.checks.myblog`, ...); `LABS` names them, in course order.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import progress

# lab id (its folder under labs/) -> the module of its checks
LABS = {
    "01-myblog": "myblog",
    "02-microservices": "microservices",
    "03-paid-content": "paid_content",
    "04-software-updates": "software_updates",
    "05-ingestion-pipeline": "ingestion_pipeline",
}


class Verified(str):
    """What a passing check verified: a string, which a notebook does not echo a second time."""

    def _ipython_display_(self) -> None:  # the ✓ line was printed already
        return None


class Mistake(Exception):
    """Raised inside a check: what is wrong, the likely cause and the fix, in one message."""


class CheckFailed(AssertionError):
    """A check found a mistake; IPython shows the message alone, without a traceback."""

    def __init__(self, title: str, message: str) -> None:
        super().__init__(message)
        self.title = title
        self.message = message

    def _render_traceback_(self) -> list[str]:  # IPython's hook for custom error display
        return [f"✗ {self.title}", *(f"  {line}" for line in self.message.splitlines())]


@dataclass(frozen=True)
class Check:
    """One exercise's check, as registered by its lab's module."""

    lab: str
    name: str
    title: str


REGISTRY: dict[str, list[Check]] = {}


def check(lab: str, title: str) -> Callable[[Callable[..., str]], Callable[..., str]]:
    """Register a check of `lab` (a key of LABS): it returns what it verified, or raises Mistake."""
    if lab not in LABS:
        raise ValueError(f"unknown lab {lab!r}; labs are {', '.join(LABS)}")

    def register(inspect: Callable[..., str]) -> Callable[..., str]:
        entry = Check(lab, inspect.__name__, title)
        REGISTRY.setdefault(lab, []).append(entry)

        @functools.wraps(inspect)
        def run(the_lab: Any, *args: Any, **kwargs: Any) -> Verified:
            try:
                verified = inspect(the_lab, *args, **kwargs)
            except Mistake as mistake:
                progress.record_check(lab, entry.name, False, the_lab.backend)
                raise CheckFailed(title, str(mistake)) from None
            progress.record_check(lab, entry.name, True, the_lab.backend)
            print(f"✓ {title}: {verified}")
            return Verified(verified)

        run.check = entry  # type: ignore[attr-defined]
        return run

    return register


def checks_of(lab: str) -> list[Check]:
    """Every check of a lab, in exercise order (imports the lab's module)."""
    if lab not in LABS:
        raise ValueError(f"unknown lab {lab!r}; labs are {', '.join(LABS)}")
    importlib.import_module(f"{__name__}.{LABS[lab]}")
    return list(REGISTRY.get(lab, []))


def expect(condition: object, message: str) -> None:
    """Raise Mistake(message) unless condition holds."""
    if not condition:
        raise Mistake(message)
