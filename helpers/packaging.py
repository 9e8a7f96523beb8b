"""Build a Lambda deployment package (.zip) from handler files, checking the handler exists."""

from __future__ import annotations

import ast
import io
import zipfile
from pathlib import Path

_FIXED_TIME = (2020, 1, 1, 0, 0, 0)  # same bytes for the same sources: CodeSha256 stays stable


def package(*paths: str | Path, handler: str | None = None) -> bytes:
    """Zip files and folders into a deployment package; with `handler`, check it is in there."""
    if not paths:
        raise ValueError(
            "package() needs at least one file or folder, e.g. package('functions/app.py')"
        )
    entries: dict[str, bytes] = {}
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for file in sorted(path.rglob("*")):
                if file.is_file() and "__pycache__" not in file.parts:
                    entries[file.relative_to(path).as_posix()] = file.read_bytes()
        elif path.is_file():
            entries[path.name] = path.read_bytes()
        else:
            raise FileNotFoundError(f"{path}: no such file or folder to package; check the path")
    if handler is not None:
        check_handler(entries, handler)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in sorted(entries.items()):
            info = zipfile.ZipInfo(name, _FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buf.getvalue()


def check_handler(entries: dict[str, bytes], handler: str) -> None:
    """Raise ValueError unless `module.function` names a function defined in the package.

    The module is `module.py` or a package's `module/__init__.py` (dots are folders), as the
    Python runtime imports it; the function may be defined there or imported into it.
    """
    module, _, function = handler.rpartition(".")
    if not module or not function:
        raise ValueError(
            f"handler {handler!r} must be 'module.function', e.g. 'app.handler' for def handler in app.py"
        )
    path = module.replace(".", "/")
    candidates = [f"{path}.py", f"{path}/__init__.py"]
    filename = next((name for name in candidates if name in entries), None)
    if filename is None:
        found = ", ".join(sorted(n for n in entries if n.endswith(".py"))) or "no .py files"
        raise ValueError(
            f"handler {handler!r} needs {candidates[0]} (or {candidates[1]}) at the top of the "
            f"package, which holds {found}: add the file or change the handler"
        )
    try:
        tree = ast.parse(entries[filename], filename=filename)
    except SyntaxError as exc:
        raise ValueError(f"{filename} line {exc.lineno}: {exc.msg}; fix the syntax error") from exc
    defined, modules, star = _top_level_names(tree)
    if function not in defined | modules and not star:
        listed = ", ".join(sorted(defined)) or "nothing"
        raise ValueError(
            f"handler {handler!r}: {filename} defines no top-level {function!r} (it defines "
            f"{listed}); rename the function or change the handler"
        )


def _top_level_names(tree: ast.Module) -> tuple[set[str], set[str], bool]:
    """What a module defines at the top level: (functions, assignments and names imported
    with `from ... import`; modules bound by `import`; whether it imports `*`)."""
    defined: set[str] = set()
    modules: set[str] = set()
    star = False
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            defined.add(node.name)
        elif isinstance(node, ast.Assign):
            defined.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            defined.add(node.target.id)
        elif isinstance(node, ast.Import):
            modules.update(a.asname or a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name == "*":
                    star = True
                else:
                    defined.add(alias.asname or alias.name)
    return defined, modules, star
