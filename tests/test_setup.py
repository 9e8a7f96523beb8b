"""The set-up tooling: scripts/setup.sh, the Makefile, .ci/run and nbval's sanitize file."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from nbval.plugin import get_sanitize_patterns

ROOT = Path(__file__).resolve().parent.parent
SETUP = ROOT / "scripts" / "setup.sh"
BASH = shutil.which("bash")


@pytest.fixture
def bare_repo(tmp_path: Path) -> Path:
    """A copy of just the set-up files, with no .venv: set-up from nothing, safely."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(SETUP, tmp_path / "scripts" / "setup.sh")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def fake_python(folder: Path, version: str) -> Path:
    """Write an executable that answers the version query like Python `version` would."""
    folder.mkdir(exist_ok=True)
    path = folder / f"python{version}"
    path.write_text(f"#!/bin/sh\necho {version.replace('.', ' ')}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def setup_sh(repo: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """Run scripts/setup.sh of repo with extra environment variables."""
    return subprocess.run(
        [BASH, str(repo / "scripts" / "setup.sh"), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


# --- scripts/setup.sh -------------------------------------------------------------------------


def test_setup_refuses_a_python_older_than_3_10(bare_repo, tmp_path):
    old = fake_python(tmp_path / "bin", "3.9")

    done = setup_sh(bare_repo, PYTHON=str(old))

    assert done.returncode == 1
    assert f"PYTHON={old} is Python 3.9; this course needs Python >= 3.10." in done.stderr
    assert not (bare_repo / ".venv").exists()


def test_setup_names_a_missing_interpreter(bare_repo):
    done = setup_sh(bare_repo, PYTHON="/nonexistent/python3.12")

    assert done.returncode == 1
    assert "PYTHON=/nonexistent/python3.12 is not an executable" in done.stderr


def test_setup_rejects_unknown_options(bare_repo):
    done = setup_sh(bare_repo, "--fast")

    assert done.returncode == 1 and "unknown option '--fast'" in done.stderr


@pytest.mark.parametrize(
    ("os_release", "expected"),
    [
        ('ID=debian\nVERSION_ID="12"\n', "sudo apt-get install -y graphviz"),
        ('ID=linuxmint\nID_LIKE="ubuntu debian"\n', "sudo apt-get install -y graphviz"),
        ("ID=fedora\n", "sudo dnf install -y graphviz"),
        ('ID="rocky"\nID_LIKE="rhel centos fedora"\n', "sudo dnf install -y graphviz"),
        ("ID=arch\n", "sudo pacman -S --noconfirm graphviz"),
        ("ID=plan9\n", "install Graphviz from https://graphviz.org/download/"),
    ],
)
def test_graphviz_hint_per_linux_distribution(bare_repo, tmp_path, os_release, expected):
    release = tmp_path / "os-release"
    release.write_text(os_release)

    done = setup_sh(bare_repo, "--graphviz-hint", OS_RELEASE_FILE=str(release), CONDA_PREFIX="")

    assert done.returncode == 0
    assert done.stdout.strip().startswith(expected)


@pytest.mark.parametrize(
    ("uname", "conda", "expected"),
    [
        ("Darwin", "", "brew install graphviz"),
        ("MINGW64_NT-10.0", "", "winget install graphviz"),
        ("Linux", "/opt/conda/envs/lab", "conda install -c conda-forge graphviz"),
    ],
)
def test_graphviz_hint_macos_windows_conda(bare_repo, tmp_path, uname, conda, expected):
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    (bin_dir / "uname").write_text(f"#!/bin/sh\necho {uname}\n")
    (bin_dir / "uname").chmod(0o755)

    done = setup_sh(
        bare_repo,
        "--graphviz-hint",
        PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        CONDA_PREFIX=conda,
    )

    assert done.stdout.strip().startswith(expected)


# --- Makefile and CI --------------------------------------------------------------------------


def make_dry_run(target: str) -> str:
    """Return the commands `make -n target` would run (the set-up itself is not run)."""
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    done = subprocess.run(
        [make, "-n", target], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout


def test_make_test_runs_tests_and_notebooks_under_strict_nbval():
    command = make_dry_run("test")

    assert "bash scripts/setup.sh" in command
    assert ".venv/bin/python -m pytest tests" in command
    assert "--nbval " in command and "--nbval-lax" not in command
    assert "--nbval-sanitize-with tests/nbval_sanitize.cfg" in command
    assert "--ignore-glob='*-student.ipynb'" in command
    assert "--ignore=tests/benchmarks" in command


def test_make_lab_opens_the_start_notebook_and_allows_root():
    command = make_dry_run("lab")

    assert "-m jupyterlab" in command and "--ServerApp.root_dir=." in command
    assert "--LabApp.default_url=/lab/tree/notebooks/00-start-here/00-start-here.ipynb" in command
    assert ("--allow-root" in command) == (os.geteuid() == 0)


def test_make_book_writes_notebooks_with_labbook_run():
    assert "-m helpers.cli run --write" in make_dry_run("book")


def test_ci_runs_make_test_and_nothing_else():
    script = ROOT / ".ci" / "run"
    lines = [ln for ln in script.read_text().splitlines() if ln and not ln.startswith("#")]

    assert script.read_text().startswith("#!/usr/bin/env bash\n")
    assert lines == ["set -euo pipefail", 'cd "$(dirname "${BASH_SOURCE[0]}")/.."', "make test"]


# --- nbval sanitize file ----------------------------------------------------------------------


def sanitize(text: str) -> str:
    """Apply tests/nbval_sanitize.cfg to text as nbval does."""
    patterns = get_sanitize_patterns((ROOT / "tests" / "nbval_sanitize.cfg").read_text())
    for regex, replace in patterns:
        text = re.sub(regex, replace, text)
    return text


def test_sanitize_file_parses_every_pattern():
    text = (ROOT / "tests" / "nbval_sanitize.cfg").read_text()
    declared = len(re.findall(r"^regex: ", text, flags=re.MULTILINE))
    patterns = get_sanitize_patterns(text)

    assert len(patterns) == declared > 10
    for regex, _ in patterns:
        re.compile(regex)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("MessageId: 6f1c2a4e-9b7d-4c3e-8a1f-0d2e3b4c5a6f", "MessageId: UUID"),
        ("'LastModified': '2025-01-02T03:04:05.123Z'", "'LastModified': 'TIMESTAMP'"),
        ("created 2025-01-02 03:04:05+00:00", "created TIMESTAMP"),
        (
            "'CreationDateTime': datetime.datetime(2025, 1, 2, 3, 4, 5, tzinfo=tzlocal())}",
            "'CreationDateTime': datetime.datetime(...)}",
        ),
        ("'date': 'Thu, 02 Jan 2025 03:04:05 GMT'", "'date': 'HTTP-DATE'"),
        ("'Timestamp': 1735787045123,", "'Timestamp': EPOCH-MS,"),
        ("ApproximateArrivalTimestamp 1735787045.25", "ApproximateArrivalTimestamp EPOCH-S"),
        ("'RequestId': 'AbC123xYz'", "'RequestId': 'REQUEST-ID'"),
        (
            "<RequestId>3B8D162D1C78723E</RequestId><HostId>q/+2C5uVBR9=</HostId>",
            "<RequestId>REQUEST-ID</RequestId><HostId>REQUEST-ID</HostId>",
        ),
        ("'x-amz-request-id': '4442587FB7D0A2F9'", "'x-amz-request-id': 'REQUEST-ID'"),
        ("'ReceiptHandle': 'AQEBwJnKyrHigUMZj6r=='", "'ReceiptHandle': 'RECEIPT-HANDLE'"),
        ("mount -t efs -o tls fs-40b74bec:/ /mnt/efs", "mount -t efs -o tls fs-ID:/ /mnt/efs"),
        (
            "elasticfilesystem:us-east-1:1:access-point/fsap-0dabb9554",
            "elasticfilesystem:us-east-1:1:access-point/fsap-ID",
        ),
        ("curl http://127.0.0.1:49321/prod/posts", "curl http://127.0.0.1:PORT/prod/posts"),
        ("listening on localhost:8080", "listening on localhost:PORT"),
        ("written to /tmp/tmpa1b2c3/photo.jpg", "written to TMP-PATH"),
        (
            "REPORT Duration: 12.34 ms\tBilled Duration: 13 ms",
            "REPORT Duration: N ms\tBilled Duration: N ms",
        ),
        ("Max Memory Used: 45 MB", "Max Memory Used: N MB"),
        ("took 1.52 s", "took N s"),
        ("<helpers.lab.Lab object at 0x7f3a2c1b4d90>", "<helpers.lab.Lab object at 0xADDRESS>"),
        (
            "/video.mp4?Expires=1735787045&Signature=ab~c-d_&Key-Pair-Id=K2J",
            "/video.mp4?Expires=SIGNED&Signature=SIGNED&Key-Pair-Id=K2J",
        ),
        ("token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "token JWT"),
        ('<img src="data:image/png;base64,iVBORw0KGgo=">', '<img src="data:image;base64,IMAGE">'),
        (
            '<?xml version="1.0"?>\n<svg width="10">\n<image href="/abs/icon.png"/>\n</svg>\n',
            "<svg/>\n",
        ),
        (
            "s3://bucket/2025/01/02/03/clicks-1-2025-01-02-03-04-05-6f1c2a4e-9b7d-4c3e-8a1f-0d2e3b4c5a6f",
            "s3://bucket/YYYY/MM/DD/HH/clicks-1-YYYY-MM-DD-HH-MM-SS-UUID",
        ),
    ],
)
def test_sanitize_hides_what_varies(raw, clean):
    assert sanitize(raw) == clean


@pytest.mark.parametrize(
    "kept",
    [
        "arn:aws:iam::123456789012:role/myblog-1a2b3c-thumbnail",
        "https://myblog-1a2b3c-site.s3.amazonaws.com/index.html",
        "StatusCode 200, 3 messages, $2.73 per month, price dated 2024-11-01",
        "Lambda timeout: 3 s, memory: 128 MB",
    ],
)
def test_sanitize_keeps_the_lesson(kept):
    assert sanitize(kept) == kept
