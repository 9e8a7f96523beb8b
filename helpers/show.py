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
    """A boto3 response without its ResponseMetadata."""
    if isinstance(resp, dict):
        return {k: v for k, v in resp.items() if k != "ResponseMetadata"}
    return resp


def show(resp: Any, *keys: str) -> None:
    """Print a boto3 response as indented JSON, without ResponseMetadata, optionally only `keys`."""
    data = trim(resp)
    if keys and isinstance(data, dict):
        data = {k: data[k] for k in keys if k in data}
    print(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def source(path: str | Path, *names: str) -> Any:
    """Show a source file (a Lambda handler) with syntax highlighting; with `names`, only those
    top-level functions and classes, in the file's order, under a comment naming the rest."""
    from IPython.display import Code

    if not names:
        return Code(filename=str(path), language="python")
    return Code(
        excerpt(Path(path).read_text(encoding="utf-8"), names, str(path)), language="python"
    )


def excerpt(text: str, names: tuple[str, ...] | list[str], label: str = "the file") -> str:
    """The named top-level definitions of Python source `text` (decorators included)."""
    import ast

    lines = text.splitlines()
    definitions = [
        node
        for node in ast.parse(text).body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    ]
    found = {node.name: node for node in definitions}
    missing = [n for n in names if n not in found]
    if missing:
        raise ValueError(
            f"{label} defines no top-level {', '.join(missing)}; it defines "
            f"{', '.join(found) or 'nothing'}"
        )
    shown = [node for node in definitions if node.name in names]
    rest = [node.name for node in definitions if node.name not in names]
    parts = []
    for node in shown:
        start = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
        parts.append("\n".join(lines[start : node.end_lineno]))
    header = f"# {label}: {', '.join(n.name for n in shown)}"
    if rest:
        header += f" (also in the file: {', '.join(rest)})"
    return header + "\n\n\n" + "\n\n\n".join(parts) + "\n"


def diagram(name: str) -> Any:
    """Render diagrams/<name>.py with the `diagrams` package and display the PNG.

    The render goes to .labbook/diagrams/ (the committed render in diagrams/ is refreshed only by
    `make diagrams`); without Graphviz the committed render is shown, with a note.
    """
    from IPython.display import Image

    module_path = _diagram_module(name)
    if shutil.which("dot") is None:
        print(
            "Graphviz is not installed, so this is the committed render. To draw it yourself: "
            "`make lab` installs it, or see README > Troubleshooting."
        )
        return Image(filename=str(DIAGRAMS / f"{name}.png"))
    cache = ROOT / ".labbook" / "diagrams"
    cache.mkdir(parents=True, exist_ok=True)
    _load(module_path).draw(str(cache / name))
    return Image(filename=str(cache / f"{name}.png"))


def architecture(title: str, filename: str, outformat: str = "png", **graph: str) -> Any:
    """A `diagrams.Diagram` in the course's style (left to right, 72 dpi), not shown on screen;
    `graph` adds or overrides Graphviz graph attributes (e.g. splines="spline")."""
    from diagrams import Diagram

    graph_attr = {"fontsize": "20", "pad": "0.3", "dpi": "72", **graph}
    return Diagram(
        title,
        filename=filename,
        outformat=outformat,
        show=False,
        direction="LR",
        graph_attr=graph_attr,
    )


def render_all() -> list[Path]:
    """Refresh the committed renders diagrams/<name>.png from every diagrams/<name>.py."""
    written = []
    for module_path in sorted(DIAGRAMS.glob("*.py")):
        _load(module_path).draw(str(DIAGRAMS / module_path.stem))
        written.append(DIAGRAMS / f"{module_path.stem}.png")
    return written


def _diagram_module(name: str) -> Path:
    module_path = DIAGRAMS / f"{name}.py"
    if not module_path.exists():
        known = ", ".join(sorted(p.stem for p in DIAGRAMS.glob("*.py"))) or "none"
        raise FileNotFoundError(f"no diagram {name!r} in {DIAGRAMS.name}/ (known: {known})")
    return module_path


def _load(module_path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(
        f"labbook_diagram_{module_path.stem}", module_path
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


if __name__ == "__main__":  # `make diagrams`
    for path in render_all():
        print(path.relative_to(ROOT))
