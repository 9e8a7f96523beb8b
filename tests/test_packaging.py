"""helpers.package: a Lambda deployment package, and the handler check it makes first.

Contract: the Python runtime resolves `Handler` "module.function" by importing `module` from
the package root (dots are folders, so `pkg.handler` is `pkg/__init__.py` and `pkg.app.handler`
is `pkg/app.py`) and reading the attribute `function` from it, however the module got it
(defined there or imported). A zip with the same files gives the same CodeSha256.
https://docs.aws.amazon.com/lambda/latest/dg/python-handler.html
https://docs.aws.amazon.com/lambda/latest/dg/python-package.html
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from helpers.packaging import package

HANDLER = "def handler(event, context):\n    return {'ok': True}\n"


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _names(data: bytes) -> list[str]:
    return zipfile.ZipFile(io.BytesIO(data)).namelist()


def test_a_single_file_handler_is_packaged_at_the_root(tmp_path):
    app = _write(tmp_path, {"app.py": HANDLER}) / "app.py"

    data = package(app, handler="app.handler")

    assert _names(data) == ["app.py"]
    assert zipfile.ZipFile(io.BytesIO(data)).read("app.py").decode() == HANDLER


@pytest.mark.parametrize(
    "app",
    [
        "from impl import handler\n",
        "from impl import real as handler\n",
        "import impl\nhandler = impl.real\n",
    ],
)
def test_a_handler_imported_into_the_module_is_accepted(tmp_path, app):
    """The runtime reads the module's attribute: a re-exported function is a handler too."""
    root = _write(tmp_path, {"app.py": app, "impl.py": HANDLER + "real = handler\n"})

    data = package(root / "app.py", root / "impl.py", handler="app.handler")

    assert sorted(_names(data)) == ["app.py", "impl.py"]


def test_a_package_module_is_its_init_file(tmp_path):
    """`pkg.handler` imports the package `pkg`: its code is pkg/__init__.py."""
    root = _write(
        tmp_path / "build",
        {"pkg/__init__.py": "from .core import handler\n", "pkg/core.py": HANDLER},
    )

    data = package(root, handler="pkg.handler")

    assert sorted(_names(data)) == ["pkg/__init__.py", "pkg/core.py"]
    package(root, handler="pkg.core.handler")  # and a module inside it: pkg/core.py


def test_a_missing_module_names_the_file_and_the_fix(tmp_path):
    probe = _write(tmp_path, {"probe.py": HANDLER}) / "probe.py"

    with pytest.raises(ValueError) as err:
        package(probe, handler="app.handler")

    message = str(err.value)
    assert "app.py" in message  # the file the handler needs
    assert "probe.py" in message  # what the package holds
    assert "add the file or change the handler" in message


def test_a_missing_function_names_what_the_module_defines(tmp_path):
    app = _write(tmp_path, {"app.py": "import json\n\nTABLE = 't'\n\n" + HANDLER}) / "app.py"

    with pytest.raises(ValueError) as err:
        package(app, handler="app.lambda_handler")

    message = str(err.value)
    assert "'lambda_handler'" in message
    assert "it defines TABLE, handler" in message
    assert "rename the function or change the handler" in message


def test_a_syntax_error_gives_the_file_and_line(tmp_path):
    files = {"app.py": "import json\n\ndef handler(event, context)\n    pass\n"}
    app = _write(tmp_path, files) / "app.py"

    with pytest.raises(ValueError) as err:
        package(app, handler="app.handler")

    message = str(err.value)
    assert "app.py line 3" in message
    assert "fix the syntax error" in message


def test_the_same_files_give_the_same_bytes(tmp_path):
    """Same sources, same zip (so the same CodeSha256), whatever the files' times."""
    root = _write(tmp_path, {"app.py": HANDLER, "lib/util.py": "X = 1\n"})
    first = package(root, handler="app.handler")

    os.utime(root / "app.py", (0, 0))
    (root / "lib" / "util.py").write_text("X = 1\n")  # rewritten: a new modification time
    second = package(root, handler="app.handler")

    assert first == second
    assert sorted(_names(first)) == ["app.py", "lib/util.py"]
    (root / "app.py").write_text(HANDLER + "# changed\n")
    assert package(root, handler="app.handler") != first
