"""`labbook` command: run, doctor, teardown and argument errors."""

from __future__ import annotations

import importlib.metadata as metadata
import io
import json
import platform
import shutil
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from packaging.requirements import Requirement

from helpers import cli


def write_notebook(path: Path, *sources: str) -> Path:
    """Write a notebook: a title cell, then one code cell per source."""
    nb = new_notebook(
        cells=[new_markdown_cell("# throwaway")] + [new_code_cell(s) for s in sources]
    )
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path


@pytest.fixture
def notebooks(tmp_path: Path) -> tuple[Path, Path]:
    """One notebook that passes, one that fails at cell 2 (counting from 0, as nbval does)."""
    good = write_notebook(tmp_path / "good.ipynb", "x = 20", "print(x + 22)")
    bad = write_notebook(tmp_path / "bad.ipynb", "y = 1", "raise ValueError('bucket is empty')")
    return good, bad


# --- run --------------------------------------------------------------------------------------


def test_run_prints_table_and_names_the_failing_cell(notebooks, capsys):
    good, bad = notebooks

    code = cli.main(["run", str(good), str(bad)])

    out = capsys.readouterr().out
    rows = {line.split()[0].rsplit("/", 1)[-1]: line.split()[1:] for line in out.splitlines()[2:4]}
    assert code == 1
    assert out.splitlines()[0].split() == ["notebook", "status", "seconds"]
    assert rows["good.ipynb"][0] == "passed" and float(rows["good.ipynb"][1]) > 0
    assert rows["bad.ipynb"][0] == "FAILED"
    assert (
        "bad.ipynb: cell 2 `raise ValueError('bucket is empty')`: ValueError: bucket is empty"
        in out
    )
    assert out.rstrip().endswith("1 passed, 1 failed")


def test_run_passing_notebooks_exit_0_and_leave_files_alone(notebooks, capsys):
    good, _ = notebooks
    before = good.read_text()

    assert cli.main(["run", str(good)]) == 0
    assert good.read_text() == before
    assert "1 passed, 0 failed" in capsys.readouterr().out


def test_run_sets_the_kernels_backend(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LAB_BACKEND", "moto")
    check = "import os\nassert os.environ['LAB_BACKEND'] == 'moto-server'"
    nb_path = write_notebook(tmp_path / "env.ipynb", check)
    before = nb_path.read_text()

    assert cli.main(["run", str(nb_path), "--backend", "moto-server"]) == 0
    assert nb_path.read_text() == before


def test_run_write_forces_moto_and_saves_stable_metadata(tmp_path, capsys, monkeypatch):
    # GIVEN a shell where LAB_BACKEND points elsewhere: committed outputs must still come from moto
    monkeypatch.setenv("LAB_BACKEND", "moto-server")
    nb_path = write_notebook(tmp_path / "env.ipynb", "import os\nprint(os.environ['LAB_BACKEND'])")
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells[1].metadata["execution"] = {"iopub.execute_input": "2025-01-01T00:00:00Z"}
    nbformat.write(nb, nb_path)

    assert cli.main(["run", str(nb_path), "--write"]) == 0

    saved = json.loads(nb_path.read_text())
    cell = saved["cells"][1]
    assert cell["outputs"][0]["text"] == ["moto\n"]
    assert cell["execution_count"] == 1
    assert "execution" not in cell["metadata"]
    assert "version" not in saved["metadata"]["language_info"]
    assert saved["metadata"]["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("backend", ["moto-server", "aws"])
def test_run_write_refuses_another_backend(notebooks, capsys, monkeypatch, backend):
    monkeypatch.setenv(cli.OPT_IN, "1")
    good, _ = notebooks
    before = good.read_text()

    assert cli.main(["run", str(good), "--backend", backend, "--write"]) == 2

    err = capsys.readouterr().err
    assert "--write saves outputs into the committed notebooks" in err
    assert f"drop --backend {backend} or drop --write" in err and len(err.splitlines()) == 1
    assert good.read_text() == before


def test_run_write_accepts_backend_moto(notebooks, capsys):
    assert cli.main(["run", str(notebooks[0]), "--backend", "moto", "--write"]) == 0


def test_run_does_not_write_a_failing_notebook(notebooks, capsys):
    _, bad = notebooks
    before = bad.read_text()

    assert cli.main(["run", str(bad), "--write"]) == 1
    assert bad.read_text() == before


def test_default_notebooks_are_the_course_ones_without_student_copies(tmp_path):
    for rel in (
        "notebooks/01-myblog/01-myblog.ipynb",
        "notebooks/01-myblog/.ipynb_checkpoints/01-myblog-checkpoint.ipynb",
        "labs/01-myblog/lab-solution.ipynb",
        "labs/01-myblog/lab-student.ipynb",
        "labs/01-myblog/extra/deep.ipynb",
    ):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("{}")

    found = [p.relative_to(tmp_path).as_posix() for p in cli.course_notebooks(tmp_path)]

    assert found == [
        "notebooks/01-myblog/01-myblog.ipynb",
        "labs/01-myblog/extra/deep.ipynb",
        "labs/01-myblog/lab-solution.ipynb",
    ]


# --- argument errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["run", "nowhere/missing.ipynb"], "no notebook at 'nowhere/missing.ipynb'"),
        (
            ["run", "--backend", "localstack"],
            "unknown backend 'localstack'; use one of: moto, moto-server, aws",
        ),
        (["teardown"], "one of the arguments --lab --all is required"),
        (["teardown", "--lab", "x", "--all"], "not allowed with argument"),
        (["teardown", "--lab", "!!"], "lab name '!!' has no letter or digit"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["run", "--timeout", "soon"], "invalid float value: 'soon'"),
    ],
)
def test_argument_errors_are_one_line_with_exit_2(argv, expected, capsys, monkeypatch):
    monkeypatch.delenv(cli.OPT_IN, raising=False)

    code = cli.main(argv)

    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("labbook: error: ") and err.count("\n") == 1
    assert expected in err


def test_run_rejects_a_file_that_is_not_a_notebook(tmp_path, capsys):
    script = tmp_path / "handler.py"
    script.write_text("print('hi')\n")

    assert cli.main(["run", str(script)]) == 2
    assert "is not a notebook; give a .ipynb file" in capsys.readouterr().err


def test_run_on_aws_needs_the_opt_in(notebooks, capsys, monkeypatch):
    monkeypatch.delenv(cli.OPT_IN, raising=False)

    assert cli.main(["run", str(notebooks[0]), "--backend", "aws"]) == 2
    assert f"opt in with {cli.OPT_IN}=1" in capsys.readouterr().err


def test_help_exits_0_and_no_command_shows_help(capsys):
    assert cli.main(["--help"]) == 0
    assert cli.main([]) == 2
    assert "run" in capsys.readouterr().out


# --- doctor -----------------------------------------------------------------------------------


def test_doctor_on_this_machine(capsys):
    code = cli.main(["doctor"])

    out = capsys.readouterr().out
    good, bad, _ = cli._symbols()
    lines = {line.split()[1]: line for line in out.splitlines() if line[:1] in (good, bad)}
    assert lines["Python"].startswith(good) and platform.python_version() in lines["Python"]
    assert metadata.version("boto3") in lines["boto3"] and lines["boto3"].startswith(good)
    assert lines["moto"].startswith(good) and lines["free"].startswith(good)
    dot_ok = shutil.which("dot") is not None
    assert lines["Graphviz"].startswith(good if dot_ok else bad)
    assert code == (0 if dot_ok else 1)
    assert out.rstrip().endswith("Everything required is here." if dot_ok else "check(s) failed.")


def test_doctor_without_dot_fails_and_gives_the_install_command(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(cli, "graphviz_hint", lambda: "apt-get install -y graphviz")

    code = cli.main(["doctor"])

    out = capsys.readouterr().out
    assert code == 1
    assert "Graphviz (dot): apt-get install -y graphviz" in out


@pytest.mark.parametrize(
    ("os_release", "conda", "expected"),
    [
        ({"ID": "debian"}, "", "apt-get install -y graphviz"),
        ({"ID": "pop", "ID_LIKE": "ubuntu debian"}, "", "apt-get install -y graphviz"),
        ({"ID": "fedora"}, "", "dnf install -y graphviz"),
        ({"ID": "arch"}, "", "pacman -S --noconfirm graphviz"),
        ({"ID": "debian"}, "/opt/conda/envs/lab", "conda install -c conda-forge graphviz"),
    ],
)
def test_graphviz_hint_per_platform(os_release, conda, expected, monkeypatch):
    monkeypatch.setattr(platform, "system", lambda: "Linux")
    monkeypatch.setattr(platform, "freedesktop_os_release", lambda: os_release)
    monkeypatch.setenv("CONDA_PREFIX", conda)

    assert cli.graphviz_hint().endswith(expected)


def test_graphviz_hint_macos_and_windows(monkeypatch):
    monkeypatch.delenv("CONDA_PREFIX", raising=False)
    monkeypatch.setattr(platform, "system", lambda: "Darwin")
    assert cli.graphviz_hint() == "brew install graphviz"
    monkeypatch.setattr(platform, "system", lambda: "Windows")
    assert cli.graphviz_hint().startswith("winget install graphviz")


def test_doctor_platform_linux_passes(monkeypatch):
    monkeypatch.setattr(platform, "system", lambda: "Linux")

    check = cli.check_platform({})

    assert check.ok and check.required and check.detail == "Linux"


@pytest.mark.parametrize("system", ["Darwin", "Windows"])
@pytest.mark.parametrize(
    ("backend", "required"), [(None, True), ("moto", True), ("moto-server", True), ("aws", False)]
)
def test_doctor_platform_elsewhere_points_to_wsl_or_linux(monkeypatch, system, backend, required):
    monkeypatch.setattr(platform, "system", lambda: system)

    check = cli.check_platform({"LAB_BACKEND": backend} if backend else {})

    assert not check.ok and check.required is required
    assert check.detail.startswith(f"{system}: the offline backends need Linux")
    assert check.fix == (
        "use WSL2 (Windows) or a Linux machine/container; the aws backend works anywhere"
    )


def test_doctor_on_macos_fails_for_the_offline_backend(monkeypatch, capsys):
    monkeypatch.setattr(platform, "system", lambda: "Darwin")
    monkeypatch.setattr(cli, "graphviz_hint", lambda: "brew install graphviz")
    monkeypatch.delenv("LAB_BACKEND", raising=False)

    code = cli.main(["doctor"])

    out = capsys.readouterr().out
    assert code == 1
    assert "platform: use WSL2 (Windows) or a Linux machine/container" in out


def test_doctor_names_a_missing_or_outdated_package():
    missing = cli.check_package(Requirement("no-such-package-xyz>=1"), True, {})
    outdated = cli.check_package(Requirement("boto3>=99"), True, cli._module_names())

    assert not missing.ok and "not installed" in missing.detail
    assert missing.fix == cli.install_fix() and "setup" in missing.fix
    assert not outdated.ok and "needs >=99" in outdated.detail and outdated.fix == missing.fix


def test_doctor_rejects_an_unknown_backend():
    [check] = cli.check_backend({"LAB_BACKEND": "localstack"})

    assert not check.ok and check.required
    assert check.fix.startswith("export LAB_BACKEND=moto")


def test_doctor_aws_without_opt_in_or_credentials_calls_nothing(monkeypatch, tmp_path):
    monkeypatch.setattr(Path, "home", lambda: tmp_path)
    monkeypatch.setattr(cli, "check_aws_account", lambda: pytest.fail("AWS was called"))

    checks = {c.name: c for c in cli.check_backend({"LAB_BACKEND": "aws"})}

    assert checks["backend"].ok
    assert not checks["AWS opt-in"].ok and f"{cli.OPT_IN}=1" in checks["AWS opt-in"].fix
    assert not checks["AWS credentials"].ok and "aws configure" in checks["AWS credentials"].fix


def test_doctor_finds_credentials_in_a_profile_file(monkeypatch, tmp_path):
    monkeypatch.setattr(Path, "home", lambda: tmp_path)
    credentials = tmp_path / "credentials"
    credentials.write_text("[course]\naws_access_key_id = AKIDEXAMPLE\n")
    env = {"AWS_SHARED_CREDENTIALS_FILE": str(credentials)}

    assert cli.aws_credentials_source({**env, "AWS_PROFILE": "course"}) == "profile course"
    assert cli.aws_credentials_source({**env, "AWS_PROFILE": "other"}) == ""


# --- teardown ---------------------------------------------------------------------------------


@dataclass
class FakeResource:
    service: str
    kind: str
    id: str
    region: str


@dataclass
class FakeReport:
    left: list = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.left

    def __str__(self) -> str:
        return f"deleted everything; {len(self.left)} left"


@pytest.fixture
def fake_teardown(monkeypatch):
    """Replace helpers.teardown with a recorder; nothing reaches AWS."""
    module = types.SimpleNamespace(calls=[], found=[], report=FakeReport())

    def discover(client_factory, **kwargs):
        module.calls.append(("discover", kwargs))
        return module.found

    def teardown(resources, client_factory, wait=False):
        assert wait, "on a real account the teardown waits for dependants to go"
        module.calls.append(("teardown", list(resources)))
        return module.report

    module.discover, module.teardown = discover, teardown
    monkeypatch.setitem(sys.modules, "helpers.teardown", module)
    return module


def test_teardown_refuses_without_the_opt_in(fake_teardown, monkeypatch, capsys):
    monkeypatch.delenv(cli.OPT_IN, raising=False)

    code = cli.main(["teardown", "--lab", "myblog", "--yes"])

    assert code == 2
    assert f"{cli.OPT_IN}=1 labbook teardown --lab myblog" in capsys.readouterr().err
    assert fake_teardown.calls == []


def test_teardown_lists_deletes_and_reports(fake_teardown, monkeypatch, capsys):
    monkeypatch.setenv(cli.OPT_IN, "1")
    fake_teardown.found = [FakeResource("s3", "bucket", "myblog-1a2b3c-photos", "us-east-1")]

    code = cli.main(["teardown", "--lab", "MyBlog", "--region", "us-east-1", "--yes"])

    out = capsys.readouterr().out
    (_, kwargs), (_, deleted) = fake_teardown.calls
    assert code == 0
    assert kwargs == {
        "regions": ["us-east-1"],
        "tag_key": "labbook:lab",
        "tag_value": "myblog",
        "name_prefix": "myblog-",
        "run_id_names": True,
    }
    assert deleted == fake_teardown.found
    assert "myblog-1a2b3c-photos" in out and "deleted everything; 0 left" in out


def test_teardown_exits_1_when_something_is_left(fake_teardown, monkeypatch, capsys):
    monkeypatch.setenv(cli.OPT_IN, "1")
    fake_teardown.found = [FakeResource("sqs", "queue", "q", "eu-west-1")]
    fake_teardown.report = FakeReport(left=fake_teardown.found)

    code = cli.main(
        ["teardown", "--all", "--region", "eu-west-1", "--region", "us-east-1", "--yes"]
    )

    assert code == 1
    assert fake_teardown.calls[0][1]["tag_value"] is None
    assert fake_teardown.calls[0][1]["regions"] == ["eu-west-1", "us-east-1"]


def test_teardown_asks_first_and_deletes_nothing_on_no(fake_teardown, monkeypatch, capsys):
    monkeypatch.setenv(cli.OPT_IN, "1")
    fake_teardown.found = [FakeResource("s3", "bucket", "b", "us-east-1")]
    tty = io.StringIO("n\n")
    tty.isatty = lambda: True
    monkeypatch.setattr(sys, "stdin", tty)

    code = cli.main(["teardown", "--lab", "myblog", "--region", "us-east-1"])

    assert code == 1
    assert "Nothing deleted." in capsys.readouterr().out
    assert [name for name, _ in fake_teardown.calls] == ["discover"]


def test_teardown_without_a_terminal_needs_yes(fake_teardown, monkeypatch, capsys):
    monkeypatch.setenv(cli.OPT_IN, "1")
    fake_teardown.found = [FakeResource("s3", "bucket", "b", "us-east-1")]
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))

    assert cli.main(["teardown", "--lab", "myblog", "--region", "us-east-1"]) == 2
    assert "add --yes" in capsys.readouterr().err
    assert [name for name, _ in fake_teardown.calls] == ["discover"]


def test_teardown_with_nothing_found_exits_0(fake_teardown, monkeypatch, capsys):
    monkeypatch.setenv(cli.OPT_IN, "1")

    assert cli.main(["teardown", "--lab", "myblog", "--region", "us-east-1"]) == 0
    assert "Nothing to tear down for lab 'myblog' in us-east-1." in capsys.readouterr().out
