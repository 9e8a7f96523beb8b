"""The learner's progress, kept on this machine: lab checks passed and quiz scores.

One JSON file, `<LABBOOK_HOME or ~/.labbook>/progress.json`. Nothing leaves the machine. Checks
record each exercise they see pass; `labbook quiz` and the notebooks' exam checkpoints record
scores; `labbook progress` shows the lot.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any


def path() -> Path:
    """Where progress is kept."""
    home = Path(os.environ.get("LABBOOK_HOME") or Path.home() / ".labbook")
    return home / "progress.json"


def load() -> dict[str, Any]:
    """Everything recorded so far (empty when nothing is); a damaged file is set aside."""
    file = path()
    try:
        data = json.loads(file.read_text())
    except FileNotFoundError:
        return {"labs": {}, "quiz": []}
    except (OSError, ValueError):
        # a damaged file must not stop a lab: keep it for the learner to inspect, start afresh
        file.replace(file.with_suffix(f".damaged-{int(time.time())}.json"))
        return {"labs": {}, "quiz": []}
    data.setdefault("labs", {})
    data.setdefault("quiz", [])
    return data


def _save(data: dict[str, Any]) -> None:
    file = path()
    file.parent.mkdir(parents=True, exist_ok=True)
    temporary = file.with_suffix(".tmp")
    temporary.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    temporary.replace(file)


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
