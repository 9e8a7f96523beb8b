"""The learner's progress, kept on this machine: lab checks passed and quiz scores.

One JSON file, `<LABBOOK_HOME or ~/.labbook>/progress.json`. Nothing leaves the machine. Checks
record each exercise they see pass; `labbook quiz` and the notebooks' exam checkpoints record
scores; `labbook progress` shows the lot.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any


def path() -> Path:
    """Where progress is kept."""
    home = Path(os.environ.get("LABBOOK_HOME") or Path.home() / ".labbook")
    return home / "progress.json"


def _empty() -> dict[str, Any]:
    return {"labs": {}, "quiz": []}


def load() -> dict[str, Any]:
    """Everything recorded so far (empty when nothing is); a damaged file is set aside."""
    file = path()
    try:
        text = file.read_text()
    except FileNotFoundError:
        return _empty()
    except OSError as error:  # unreadable: carry on without it, and say so
        print(f"labbook: progress not read from {file} ({error})", file=sys.stderr)
        return _empty()
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    well_formed = (
        isinstance(data, dict)
        and isinstance(data.get("labs", {}), dict)
        and all(isinstance(v, dict) for v in data.get("labs", {}).values())
        and isinstance(data.get("quiz", []), list)
    )
    if not well_formed:
        # a damaged file must not stop a lab: keep it for the learner to inspect, start afresh
        aside = file.with_suffix(f".damaged-{int(time.time())}.json")
        try:
            file.replace(aside)
            print(f"labbook: damaged progress file set aside as {aside}", file=sys.stderr)
        except OSError:
            pass
        return _empty()
    data.setdefault("labs", {})
    data.setdefault("quiz", [])
    return data


def _save(data: dict[str, Any]) -> None:
    """Write progress; a machine where it cannot be written loses the record, not the lab."""
    file = path()
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        temporary = file.with_suffix(".tmp")
        temporary.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
        temporary.replace(file)
    except OSError as error:
        print(f"labbook: progress not saved to {file} ({error})", file=sys.stderr)


def record_check(lab: str, check: str, passed: bool, backend: str) -> None:
    """Note that a lab's check ran, and whether it passed (a pass is never taken back)."""
    data = load()
    checks = data["labs"].setdefault(lab, {})
    entry = checks.setdefault(check, {"passed": False})
    entry["last"] = "passed" if passed else "failed"
    entry["runs"] = entry.get("runs", 0) + 1
    if passed and not entry["passed"]:
        entry.update(passed=True, when=int(time.time()), backend=backend)
    _save(data)


def record_quiz(
    architecture: str, mode: str, score: int, total: int, seconds: float | None = None
) -> None:
    """Note a finished practice round, exam or checkpoint."""
    data = load()
    entry: dict[str, Any] = {
        "architecture": architecture,
        "mode": mode,
        "score": score,
        "total": total,
        "when": int(time.time()),
    }
    if seconds is not None:
        entry["seconds"] = round(seconds)
    data["quiz"].append(entry)
    _save(data)
