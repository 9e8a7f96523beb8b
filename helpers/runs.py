"""A record of each real-account run until its teardown finishes, so none is forgotten.

A kernel killed mid-run (SIGKILL, a crashed laptop) cannot tear down. Every `aws` lab writes
`<LABBOOK_HOME or ~/.labbook>/runs/<account>/<prefix>.json` when it starts and removes it when its
teardown is clean; the next lab on that account lists the records left behind, with the command
that removes their resources.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path


def _folder(account_id: str) -> Path:
    home = Path(os.environ.get("LABBOOK_HOME") or Path.home() / ".labbook")
    return home / "runs" / account_id


def record(account_id: str, prefix: str, lab_name: str, region: str) -> Path:
    """Write the record of a run that has started."""
    folder = _folder(account_id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{prefix}.json"
    entry = {"lab": lab_name, "prefix": prefix, "region": region, "started": int(time.time())}
    path.write_text(json.dumps(entry) + "\n")
    return path


def finish(account_id: str, prefix: str) -> None:
    """Remove the record of a run whose teardown left nothing."""
    (_folder(account_id) / f"{prefix}.json").unlink(missing_ok=True)


def unfinished(account_id: str, lab_name: str | None = None) -> list[dict[str, object]]:
    """Runs on this account (of one lab, or all) whose teardown never finished."""
    folder = _folder(account_id)
    if not folder.is_dir():
        return []
    runs = []
    for path in sorted(folder.glob("*.json")):
        try:
            entry = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if lab_name is None or entry.get("lab") == lab_name:
            runs.append(entry)
    return runs


def warning(account_id: str, current_prefix: str) -> str | None:
    """A message listing earlier unfinished runs on this account, or None."""
    earlier = [r for r in unfinished(account_id) if r.get("prefix") != current_prefix]
    if not earlier:
        return None
    labs = sorted({str(r["lab"]) for r in earlier})
    names = ", ".join(str(r["prefix"]) for r in earlier)
    commands = "; ".join(f"labbook teardown --lab {lab}" for lab in labs)
    return (
        f"Earlier run(s) on this account did not finish their teardown: {names}. "
        f"Their resources may still exist and cost money: run `{commands}`."
    )
