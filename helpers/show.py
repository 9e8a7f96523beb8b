"""Display helpers for notebooks: trimmed responses, JSON, diagrams, files."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DIAGRAMS = ROOT / "diagrams"


def trim(resp: Any) -> Any:
    """A boto3 response without ResponseMetadata (recursively for lists of responses)."""
    if isinstance(resp, dict):
        return {k: v for k, v in resp.items() if k != "ResponseMetadata"}
    return resp


def show(resp: Any, *keys: str) -> None:
    """Print a boto3 response as indented JSON, without ResponseMetadata, optionally only `keys`."""
    data = trim(resp)
    if keys and isinstance(data, dict):
        data = {k: data[k] for k in keys if k in data}
    print(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def source(path: str | Path) -> Any:
    """Show a source file (a Lambda handler) with syntax highlighting."""
    from IPython.display import Code

    return Code(filename=str(path), language="python")


def diagram(name: str) -> Any:
    """Render diagrams/<name>.py with the `diagrams` package and display the PNG.

    Without Graphviz the committed render is shown, with a note on how to install it.
    """
    from IPython.display import Image

    module_path = DIAGRAMS / f"{name}.py"
    if not module_path.exists():
        known = ", ".join(sorted(p.stem for p in DIAGRAMS.glob("*.py"))) or "none"
        raise FileNotFoundError(f"no diagram {name!r} in {DIAGRAMS.name}/ (known: {known})")
    target = DIAGRAMS / name
    if shutil.which("dot"):
        spec = importlib.util.spec_from_file_location(f"labbook_diagram_{name}", module_path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.draw(str(target))
    else:
        print(
            "Graphviz is not installed, so this is the committed render. To draw it yourself: "
            "`make lab` installs it, or see README > Troubleshooting."
        )
    return Image(filename=str(target.with_suffix(".png")))
