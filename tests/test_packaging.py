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
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from helpers import packaging
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


# --- requirements: what `pip install --target` puts beside the handler ------------------------
# Contract (python-package.html): dependencies go at the root of the .zip, built for Lambda's
# Amazon Linux (manylinux wheels: `pip install --platform manylinux2014_x86_64 --implementation
# cp --python-version 3.X --only-binary=:all: --target ...`); the runtime already has boto3.
# python3.12+ runs on Amazon Linux 2023 (glibc 2.34), python3.11 and earlier on AL2 (2.26).
# Quotas (gettingstarted-limits.html): 50 MB zipped for direct upload, 250 MB unzipped.

THIS_RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"


@pytest.fixture(autouse=True)
def _fresh_requirement_cache():
    packaging._requirement_entries.cache_clear()
    yield
    packaging._requirement_entries.cache_clear()


def _tops(data: bytes) -> set[str]:
    return {name.split("/")[0] for name in _names(data)}


def test_a_requirement_and_its_dependencies_are_bundled_at_the_root(tmp_path):
    """GIVEN requirements=["requests"] THEN requests and what it needs (urllib3, idna, certifi,
    charset_normalizer) sit beside app.py, as installed, without bytecode caches."""
    app = _write(tmp_path, {"app.py": HANDLER}) / "app.py"

    data = package(app, handler="app.handler", requirements=["requests"], runtime=THIS_RUNTIME)

    tops = _tops(data)
    for module in ("requests", "urllib3", "idna", "certifi", "charset_normalizer"):
        assert module in tops
        assert any(t.startswith(f"{module}-") and t.endswith(".dist-info") for t in tops)
    assert "app.py" in tops
    assert not [n for n in _names(data) if "__pycache__" in n or n.endswith(".pyc")]
    import requests

    bundled = zipfile.ZipFile(io.BytesIO(data)).read("requests/__init__.py")
    assert bundled == Path(requests.__file__).read_bytes()


def test_boto3_and_botocore_are_left_to_the_runtime_unless_named(tmp_path):
    """s3transfer needs botocore, which AWS's runtime provides: it is not bundled. Naming boto3
    bundles the SDK whole (boto3, botocore and their dependencies)."""
    app = _write(tmp_path, {"app.py": HANDLER}) / "app.py"

    without = _tops(package(app, requirements=["s3transfer"], runtime=THIS_RUNTIME))
    named = _tops(package(app, requirements=["boto3"], runtime=THIS_RUNTIME))

    assert "s3transfer" in without and "botocore" not in without and "boto3" not in without
    assert {"boto3", "botocore", "s3transfer", "jmespath", "dateutil"} <= named


def test_bundled_requirements_give_the_same_bytes(tmp_path):
    app = _write(tmp_path, {"app.py": HANDLER}) / "app.py"

    first = package(app, requirements=["requests"], runtime=THIS_RUNTIME)
    packaging._requirement_entries.cache_clear()
    second = package(app, requirements=["requests"], runtime=THIS_RUNTIME)

    assert first == second


def _fake_pip(calls: list[list[str]], returncode: int = 0, stderr: str = ""):
    """Stands in for `pip install --target DIR ...`: records the command, installs tinylib."""

    def run(command, **kwargs):
        calls.append(command)
        if returncode == 0:
            dest = Path(command[command.index("--target") + 1])
            _write(
                dest,
                {
                    "tinylib/__init__.py": "VERSION = '1.0'\n",
                    "tinylib-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: tinylib\nVersion: 1.0\n",
                    "tinylib-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
                    "tinylib-1.0.dist-info/RECORD": "tinylib/__init__.py,,\ntinylib-1.0.dist-info/METADATA,,\n"
                    "tinylib-1.0.dist-info/WHEEL,,\ntinylib-1.0.dist-info/RECORD,,\n",
                },
            )
        return subprocess.CompletedProcess(command, returncode, "", stderr)

    return run


def test_another_runtime_or_architecture_gets_its_wheels_from_pip(tmp_path, monkeypatch):
    """GIVEN runtime python3.12 on arm64 (not this machine's Python) THEN pip installs
    manylinux aarch64 wheels for CPython 3.12 into the package, binary wheels only."""
    calls: list[list[str]] = []
    monkeypatch.setattr(packaging.subprocess, "run", _fake_pip(calls))
    app = _write(tmp_path, {"app.py": HANDLER}) / "app.py"

    data = package(app, requirements=["tinylib>=1"], runtime="python3.12", architecture="arm64")

    (command,) = calls
    assert command[1:4] == ["-m", "pip", "install"]
    assert command[command.index("--python-version") + 1] == "3.12"
    assert command[command.index("--implementation") + 1] == "cp"
    assert "--only-binary=:all:" in command and command[-1] == "tinylib>=1"
    platforms = [command[i + 1] for i, arg in enumerate(command) if arg == "--platform"]
    assert "manylinux2014_aarch64" in platforms and "manylinux_2_34_aarch64" in platforms
    assert not [p for p in platforms if "x86_64" in p]
    assert zipfile.ZipFile(io.BytesIO(data)).read("tinylib/__init__.py") == b"VERSION = '1.0'\n"


def test_amazon_linux_2_runtimes_get_wheels_for_its_older_glibc():
    """python3.11 runs on Amazon Linux 2 (glibc 2.26): no manylinux_2_28 wheel fits it."""
    old, new = packaging.Target("python3.11", "x86_64"), packaging.Target("python3.12", "x86_64")

    assert old.pip_platforms()[0] == "manylinux_2_26_x86_64"
    assert new.pip_platforms()[0] == "manylinux_2_34_x86_64"
    assert "manylinux2014_x86_64" in old.pip_platforms()


def test_a_requirement_pip_cannot_fetch_names_it_and_the_fix(tmp_path, monkeypatch):
    error = "ERROR: Could not find a version that satisfies the requirement nosuchlib"
    monkeypatch.setattr(packaging.subprocess, "run", _fake_pip([], 1, error))
    app = _write(tmp_path, {"app.py": HANDLER}) / "app.py"

    with pytest.raises(packaging.PackagingError) as err:
        package(app, requirements=["nosuchlib"], runtime="python3.12")

    message = str(err.value)
    assert "nosuchlib" in message and "python3.12" in message and error in message
    assert f"runtime='{THIS_RUNTIME}'" in message  # the offline way out: build for this Python


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"runtime": "nodejs20.x"}, "runtime='python3.12'"),
        ({"architecture": "aarch64"}, "'x86_64' or 'arm64'"),
        ({"requirements": ["pillow>>10"]}, "'pillow>=10'"),
    ],
)
def test_a_bad_runtime_architecture_or_requirement_says_what_to_write(tmp_path, kwargs, expected):
    app = _write(tmp_path, {"app.py": HANDLER}) / "app.py"

    with pytest.raises(ValueError, match=re.escape(expected)):
        package(app, **kwargs)


def test_lambda_size_quotas_are_the_documented_ones():
    assert packaging.MAX_ZIPPED_BYTES == 52_428_800  # 50 MB, direct upload
    assert packaging.MAX_UNZIPPED_BYTES == 262_144_000  # 250 MB, package and layers unzipped


@pytest.mark.parametrize(
    ("limit", "words"), [("MAX_ZIPPED_BYTES", "zipped"), ("MAX_UNZIPPED_BYTES", "unzipped")]
)
def test_a_package_over_a_lambda_quota_is_refused(tmp_path, monkeypatch, limit, words):
    """GIVEN a package bigger than the quota (lowered here to 1 KB) THEN refused, with sizes."""
    monkeypatch.setattr(packaging, limit, 1024)
    root = _write(tmp_path, {"app.py": HANDLER})
    (root / "data.bin").write_bytes(os.urandom(4096))  # does not compress

    with pytest.raises(packaging.PackagingError) as err:
        package(root, handler="app.handler")

    assert f"MB {words}" in str(err.value) and "Lambda" in str(err.value)
