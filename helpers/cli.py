"""The `labbook` command: run notebooks headless, check the set-up, tear down a real-account lab."""

from __future__ import annotations

import argparse
import configparser
import importlib
import importlib.metadata as metadata
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .labs import STUDENT_SUFFIX

DIST = "serverless-labbook"
BACKENDS = ("moto", "moto-server", "aws")
DEFAULT_BACKEND = "moto"
OPT_IN = "LABBOOK_ALLOW_AWS"
TAG_KEY = "labbook:lab"
MIN_FREE_GIB = 1.0
# Notebook metadata that changes on every run or machine and says nothing about the lesson.
VOLATILE_CELL_METADATA = ("execution", "ExecuteTime")
STANDARD_KERNELSPEC = {
    "display_name": "Python 3 (ipykernel)",
    "language": "python",
    "name": "python3",
}


class UsageError(Exception):
    """A mistake on the command line: one line naming the thing and the fix."""


# --- output ---------------------------------------------------------------------------------


def _symbols() -> tuple[str, str, str]:
    """Return the pass, fail and warn marks, in ASCII when the terminal cannot show ✓ and ✗."""
    try:
        "✓✗!".encode(sys.stdout.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return "OK", "X", "!"
    return "✓", "✗", "!"


def format_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Return rows as a plain-text table with left-aligned columns."""
    rows = [list(map(str, row)) for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = [headers, ["-" * w for w in widths], *rows]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines
    )


# --- where things are -----------------------------------------------------------------------


def repo_root() -> Path:
    """Return the course's root: the checkout holding this package, else the working directory."""
    here = Path(__file__).resolve().parent.parent
    return here if (here / "pyproject.toml").is_file() else Path.cwd()


def _is_course_notebook(path: Path) -> bool:
    """True for a notebook that is not a generated student copy or a checkpoint."""
    return not path.name.endswith(STUDENT_SUFFIX) and ".ipynb_checkpoints" not in path.parts


def course_notebooks(root: Path) -> list[Path]:
    """Return every course notebook: notebooks/*/*.ipynb and labs/**/*.ipynb, no student copies."""
    found = sorted(root.glob("notebooks/*/*.ipynb")) + sorted(root.glob("labs/**/*.ipynb"))
    return [p for p in found if _is_course_notebook(p)]


def resolve_notebooks(paths: Sequence[str], root: Path) -> list[Path]:
    """Return the notebooks named (files or folders), or every course notebook when none is."""
    if not paths:
        found = course_notebooks(root)
        if not found:
            raise UsageError(f"no notebooks under {root}/notebooks or {root}/labs; name one")
        return found
    result: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            inside = [p for p in sorted(path.rglob("*.ipynb")) if _is_course_notebook(p)]
            if not inside:
                raise UsageError(f"no notebooks in folder '{given}'; name an .ipynb file")
            result += inside
        elif not path.exists():
            raise UsageError(
                f"no notebook at '{given}'; check the path (course notebooks are "
                "notebooks/*/*.ipynb and labs/**/*.ipynb)"
            )
        elif path.suffix != ".ipynb":
            raise UsageError(f"'{given}' is not a notebook; give a .ipynb file")
        else:
            result.append(path)
    return result


def _display(path: Path) -> str:
    """Return path relative to the working directory when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def check_backend_name(name: str) -> str:
    """Return name when it is a backend, else raise a UsageError listing the valid ones."""
    if name not in BACKENDS:
        raise UsageError(f"unknown backend '{name}'; use one of: {', '.join(BACKENDS)}")
    return name


# --- labbook run ----------------------------------------------------------------------------


@dataclass
class RunResult:
    """How one notebook run went."""

    path: Path
    passed: bool
    seconds: float
    failure: str = ""


def _current_env_kernel_manager() -> type:
    """Return a kernel manager class whose Python kernel is this interpreter, whatever the spec."""
    import ipykernel.kernelspec
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class CurrentEnvSpecs(KernelSpecManager):
        """Kernel specs where a Python kernel runs sys.executable (as nbval's --current-env)."""

        def get_kernel_spec(self, kernel_name: str) -> Any:
            """Return this interpreter's ipykernel spec for Python kernels."""
            if kernel_name.startswith("python"):
                return self.kernel_spec_class(
                    resource_dir=ipykernel.kernelspec.RESOURCES,
                    **ipykernel.kernelspec.get_kernel_dict(),
                )
            return super().get_kernel_spec(kernel_name)

    class CurrentEnvKernelManager(AsyncKernelManager):
        """Kernel manager using CurrentEnvSpecs."""

        @default("kernel_spec_manager")
        def _default_specs(self) -> KernelSpecManager:
            return CurrentEnvSpecs(data_dir=self.data_dir)

    return CurrentEnvKernelManager


def first_line(source: str) -> str:
    """Return the first non-blank line of a cell's source, trimmed."""
    for line in source.splitlines():
        if line.strip():
            return line.strip()[:80]
    return ""


def describe_failure(nb: Any, index: int | None, error: BaseException) -> str:
    """Return 'cell N `first line`: Error: message' for the cell that failed."""
    ename = getattr(error, "ename", None) or type(error).__name__
    evalue = getattr(error, "evalue", None)
    if evalue is None:
        evalue = str(error).strip().splitlines()[0] if str(error).strip() else ""
    if index is None:
        return f"{ename}: {evalue}"
    return f"cell {index} `{first_line(nb.cells[index].source)}`: {ename}: {evalue}"


def normalise(nb: Any) -> None:
    """Drop run-to-run noise from notebook metadata so committed notebooks stay stable."""
    for cell in nb.cells:
        for key in VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)
    nb.metadata["kernelspec"] = dict(STANDARD_KERNELSPEC)
    nb.metadata.get("language_info", {}).pop("version", None)


def run_notebook(
    path: Path, backend: str | None = None, timeout: float = 600, write: bool = False
) -> RunResult:
    """Execute one notebook headless in its own folder; save it back when write and it passed."""
    import nbformat
    from nbclient import NotebookClient
    from tqdm import tqdm

    nb = nbformat.read(path, as_version=4)
    code_cells = sum(1 for c in nb.cells if c.cell_type == "code" and c.source.strip())
    env = dict(os.environ)
    if backend:
        env["LAB_BACKEND"] = backend
    current: dict[str, int] = {}
    bar = tqdm(
        total=code_cells,
        desc=path.name,
        unit="cell",
        leave=False,
        file=sys.stderr,
        disable=not sys.stderr.isatty(),  # a log file gets the table, not hundreds of frames
    )

    def on_execute(cell: Any, cell_index: int) -> None:
        current["index"] = cell_index
        bar.set_postfix_str(f"cell {cell_index}")

    client = NotebookClient(
        nb,
        timeout=timeout,
        record_timing=False,
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
        kernel_manager_class=_current_env_kernel_manager(),
        resources={"metadata": {"path": str(path.parent.resolve())}},
        on_cell_execute=on_execute,
        on_cell_executed=lambda **_: bar.update(1),
    )
    start = time.perf_counter()
    try:
        client.execute(env=env)
    except Exception as error:  # any failure is reported, not raised
        return RunResult(
            path,
            False,
            time.perf_counter() - start,
            describe_failure(nb, current.get("index"), error),
        )
    finally:
        bar.close()
    seconds = time.perf_counter() - start
    if write:
        normalise(nb)
        nbformat.write(nb, path)
    return RunResult(path, True, seconds)


def report_runs(results: Sequence[RunResult]) -> str:
    """Return the results table, the failing cells, and an 'N passed, N failed' line."""
    rows = [
        (_display(r.path), "passed" if r.passed else "FAILED", f"{r.seconds:.1f}") for r in results
    ]
    text = [format_table(("notebook", "status", "seconds"), rows)]
    failed = [r for r in results if not r.passed]
    if failed:
        text.append("")
        text += [f"{_display(r.path)}: {r.failure}" for r in failed]
    text.append("")
    text.append(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    return "\n".join(text)


def cmd_run(args: argparse.Namespace) -> int:
    """Execute notebooks and print a table; exit 1 when any fails."""
    backend = check_backend_name(args.backend) if args.backend else None
    if args.write:
        # --write refreshes committed outputs: they come from the offline, deterministic moto
        # backend, never from moto-server or a real account (its account id, its ARNs)
        if backend not in (None, DEFAULT_BACKEND):
            raise UsageError(
                f"--write saves outputs into the committed notebooks, which come from the "
                f"{DEFAULT_BACKEND} backend only; drop --backend {backend} or drop --write"
            )
        backend = DEFAULT_BACKEND  # overrides LAB_BACKEND from the environment
    if backend == "aws" and os.environ.get(OPT_IN) != "1":
        raise UsageError(f"--backend aws creates billed resources; opt in with {OPT_IN}=1")
    notebooks = resolve_notebooks(args.notebooks, repo_root())
    results = []
    for path in notebooks:
        result = run_notebook(path, backend, args.timeout, args.write)
        print(f"{'passed' if result.passed else 'FAILED'}  {_display(path)}", file=sys.stderr)
        results.append(result)
    print(report_runs(results))
    return 0 if all(r.passed for r in results) else 1


# --- labbook doctor -------------------------------------------------------------------------


@dataclass
class Check:
    """One line of the doctor's table."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True


def graphviz_hint() -> str:
    """Return the command that installs Graphviz on this platform."""
    if os.environ.get("CONDA_PREFIX"):
        return "conda install -c conda-forge graphviz"
    system = platform.system()
    if system == "Darwin":
        return "brew install graphviz"
    if system == "Windows":
        return "winget install graphviz   (or: choco install graphviz)"
    try:
        release = platform.freedesktop_os_release()
    except OSError:
        release = {}
    family = {release.get("ID", ""), *release.get("ID_LIKE", "").split()}
    sudo = "" if hasattr(os, "geteuid") and os.geteuid() == 0 else "sudo "
    for ids, command in (
        ({"debian", "ubuntu"}, "apt-get install -y graphviz"),
        ({"fedora", "rhel", "centos"}, "dnf install -y graphviz"),
        ({"arch"}, "pacman -S --noconfirm graphviz"),
        ({"alpine"}, "apk add graphviz"),
    ):
        if family & ids:
            return sudo + command
    return "install Graphviz from https://graphviz.org/download/"


def install_fix() -> str:
    """Return the command that (re)installs the project's dependencies here."""
    root = repo_root()
    if Path(sys.prefix).resolve() == (root / ".venv").resolve():
        return f"cd {root} && make setup"
    return f"cd {root} && {sys.executable} -m pip install -e '.[dev]'"


def check_python() -> Check:
    """Check the interpreter against the project's Requires-Python."""
    from packaging.specifiers import SpecifierSet

    try:
        spec = metadata.metadata(DIST)["Requires-Python"] or ">=3.10"
    except metadata.PackageNotFoundError:
        spec = ">=3.10"
    version = platform.python_version()
    ok = SpecifierSet(spec).contains(version, prereleases=True)
    fix = f"use Python {spec}: make distclean && make setup PYTHON=/path/to/python3.12"
    return Check("Python", ok, f"{version} ({spec})", "" if ok else fix)


def _module_names() -> dict[str, list[str]]:
    """Map each installed distribution (normalised name) to its top-level modules."""
    from packaging.utils import canonicalize_name

    names: dict[str, list[str]] = {}
    for module, dists in metadata.packages_distributions().items():
        for dist in dists:
            names.setdefault(canonicalize_name(dist), []).append(module)
    return names


def project_requirements() -> list[tuple[Any, bool]]:
    """Return (requirement, required) for each dependency; dev-extra ones are not required."""
    from packaging.requirements import Requirement

    result = []
    for line in metadata.requires(DIST) or []:
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate({"extra": ""}):
            result.append((req, True))
        elif req.marker.evaluate({"extra": "dev"}):
            result.append((req, False))
    return result


def check_package(req: Any, required: bool, modules: dict[str, list[str]]) -> Check:
    """Check that one requirement is installed at a matching version and imports."""
    from packaging.utils import canonicalize_name

    label = req.name if required else f"{req.name} (dev)"
    fix = install_fix()
    try:
        version = metadata.version(req.name)
    except metadata.PackageNotFoundError:
        return Check(label, False, f"not installed (needs {req.specifier})", fix, required)
    if not req.specifier.contains(version, prereleases=True):
        return Check(label, False, f"{version} installed, needs {req.specifier}", fix, required)
    importable = [m for m in modules.get(canonicalize_name(req.name), []) if m.isidentifier()]
    if importable:
        module = "PIL" if "PIL" in importable else sorted(importable, key=len)[0]
        try:
            importlib.import_module(module)
        except Exception as error:  # a broken install shows as a failed check
            return Check(label, False, f"{version}, import {module} fails: {error}", fix, required)
    return Check(label, True, version, "", required)


def check_packages() -> list[Check]:
    """Check every dependency declared in pyproject.toml (read from the installed metadata)."""
    try:
        requirements = project_requirements()
    except metadata.PackageNotFoundError:
        return [Check(DIST, False, "the project is not installed", install_fix())]
    modules = _module_names()
    return [check_package(req, required, modules) for req, required in requirements]


def check_graphviz() -> Check:
    """Check that Graphviz's dot is on PATH and renders a PNG."""
    dot = shutil.which("dot")
    if dot is None:
        return Check("Graphviz (dot)", False, "dot not on PATH", graphviz_hint())
    try:
        done = subprocess.run(
            [dot, "-Tpng"], input=b"digraph { a -> b }", capture_output=True, timeout=30
        )
        version = subprocess.run([dot, "-V"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as error:
        return Check("Graphviz (dot)", False, f"{dot} does not run: {error}", graphviz_hint())
    if done.returncode != 0 or not done.stdout.startswith(b"\x89PNG"):
        reason = done.stderr.decode(errors="replace").strip().splitlines()[:1] or ["no PNG"]
        return Check("Graphviz (dot)", False, f"cannot render PNG: {reason[0]}", graphviz_hint())
    return Check("Graphviz (dot)", True, (version.stderr or version.stdout).strip() or dot)


def check_kernel() -> Check:
    """Check that JupyterLab's python3 kernel runs this interpreter."""
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        argv = KernelSpecManager().get_kernel_spec("python3").argv
    except Exception as error:  # any failure means no usable kernel
        fix = f"{sys.executable} -m ipykernel install --user"
        return Check("Jupyter kernel", False, f"python3 kernel missing: {error}", fix, False)
    command = argv[0] if argv else ""
    same = (
        command in {"python", "python3"}
        or Path(command).resolve() == Path(sys.executable).resolve()
    )
    fix = f"{sys.executable} -m ipykernel install --user   (points python3 at this environment)"
    detail = "python3 runs this environment" if same else f"python3 runs {command}"
    return Check("Jupyter kernel", same, detail, "" if same else fix, False)


def aws_credentials_source(env: dict[str, str]) -> str:
    """Return where AWS credentials would come from, reading only variables and files."""
    if env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"):
        return "AWS_ACCESS_KEY_ID"
    if env.get("AWS_WEB_IDENTITY_TOKEN_FILE") or env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        return "web identity / container"
    profile = env.get("AWS_PROFILE") or env.get("AWS_DEFAULT_PROFILE") or "default"
    home = Path.home() / ".aws"
    for variable, path, section in (
        ("AWS_SHARED_CREDENTIALS_FILE", home / "credentials", profile),
        (
            "AWS_CONFIG_FILE",
            home / "config",
            "default" if profile == "default" else f"profile {profile}",
        ),
    ):
        parser = configparser.ConfigParser()
        parser.read(env.get(variable) or path)
        if parser.has_section(section):
            return f"profile {profile}"
    return ""


def check_backend(env: dict[str, str] | None = None) -> list[Check]:
    """Check LAB_BACKEND; for aws, the opt-in and credentials (AWS is called only when opted in)."""
    env = dict(os.environ if env is None else env)
    name = env.get("LAB_BACKEND") or ""
    if name not in ("", *BACKENDS):
        fix = f"export LAB_BACKEND={DEFAULT_BACKEND}   (or {', '.join(BACKENDS[1:])}; or unset it)"
        return [Check("backend", False, f"LAB_BACKEND={name} is not a backend", fix)]
    checks = [Check("backend", True, name or f"{DEFAULT_BACKEND} (default, offline)")]
    if name != "aws":
        return checks
    opted_in = env.get(OPT_IN) == "1"
    opt_fix = f"export {OPT_IN}=1   (the labs then create real, billed resources)"
    checks.append(
        Check(
            "AWS opt-in", opted_in, f"{OPT_IN}={env.get(OPT_IN, '')}", "" if opted_in else opt_fix
        )
    )
    source = aws_credentials_source(env)
    cred_fix = "aws configure   (or export AWS_PROFILE=NAME, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
    checks.append(
        Check("AWS credentials", bool(source), source or "none found", "" if source else cred_fix)
    )
    if opted_in and source:
        checks.append(check_aws_account())
    return checks


def check_aws_account() -> Check:
    """Ask STS which account the credentials belong to (called only after the opt-in)."""
    try:
        import boto3
        from botocore.config import Config

        config = Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 1})
        identity = boto3.client("sts", config=config).get_caller_identity()
    except Exception as error:  # any failure is shown with its message
        return Check(
            "AWS account", False, str(error).splitlines()[0], "aws sts get-caller-identity"
        )
    return Check("AWS account", True, f"{identity['Account']} ({identity['Arn']})")


def check_platform(env: dict[str, str] | None = None) -> Check:
    """Check the OS: the offline runtime needs Linux (required unless LAB_BACKEND=aws)."""
    env = dict(os.environ if env is None else env)
    system = platform.system() or "unknown OS"
    if system == "Linux":
        return Check("platform", True, "Linux")
    offline = env.get("LAB_BACKEND") != "aws"
    return Check(
        "platform",
        False,
        f"{system}: the offline backends need Linux (/proc, process groups, awslambdaric "
        "has Linux wheels only)",
        "use WSL2 (Windows) or a Linux machine/container; the aws backend works anywhere",
        required=offline,
    )


def check_disk(root: Path | None = None) -> Check:
    """Check there is room for the venv, renders and lab artefacts."""
    root = root or repo_root()
    free = shutil.disk_usage(root).free / 2**30
    ok = free >= MIN_FREE_GIB
    fix = f"free at least {MIN_FREE_GIB:g} GiB on the disk holding {root}"
    return Check("free disk", ok, f"{free:.1f} GiB free", "" if ok else fix)


def run_checks() -> list[Check]:
    """Run every doctor check."""
    return [
        check_python(),
        check_platform(),
        *check_packages(),
        check_graphviz(),
        check_kernel(),
        *check_backend(),
        check_disk(),
    ]


def report_checks(checks: Sequence[Check]) -> str:
    """Return the ✓/✗ table, then the fix for each ✗."""
    good, bad, warn = _symbols()
    rows = [(good if c.ok else bad if c.required else warn, c.name, c.detail) for c in checks]
    lines = [format_table(("", "check", "found"), rows)]
    failing = [c for c in checks if not c.ok]
    if failing:
        lines += ["", "To fix:"]
        lines += [f"  {bad if c.required else warn} {c.name}: {c.fix}" for c in failing]
    missing = sum(1 for c in failing if c.required)
    lines.append("")
    lines.append(
        f"{missing} required check(s) failed." if missing else "Everything required is here."
    )
    return "\n".join(lines)


def cmd_doctor(args: argparse.Namespace) -> int:
    """Print the set-up checks; exit 1 when anything required is missing."""
    checks = run_checks()
    print(report_checks(checks))
    return 1 if any(c.required and not c.ok for c in checks) else 0


# --- labbook teardown -----------------------------------------------------------------------


def aws_client_factory() -> Callable[..., Any]:
    """Return a factory of boto3 clients, one per (service, region), for the real account."""
    import boto3

    clients: dict[tuple[str, str | None], Any] = {}

    def client(service: str, region: str | None = None, **kwargs: Any) -> Any:
        region = region or kwargs.pop("region_name", None)
        key = (service, region)
        if key not in clients:
            clients[key] = boto3.client(service, region_name=region, **kwargs)
        return clients[key]

    return client


def default_regions() -> list[str]:
    """Return the labs' region (AWS_DEFAULT_REGION, else us-east-1) and the profile's, if other."""
    import boto3

    regions = [os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"]
    configured = boto3.session.Session().region_name
    return regions + [configured] if configured and configured not in regions else regions


def lab_slug(name: str) -> str:
    """Return a lab name as helpers.start() spells it in tags and names ('My Blog' -> 'my-blog')."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _confirm(count: int) -> bool:
    """Ask before deleting; refuse when nobody can answer."""
    if not sys.stdin or not sys.stdin.isatty():
        raise UsageError("no terminal to confirm the deletion; add --yes to delete without asking")
    answer = input(f"Delete these {count} resources? [y/N] ")
    return answer.strip().lower() in {"y", "yes"}


def cmd_teardown(args: argparse.Namespace) -> int:
    """Find a lab's resources on the real account, confirm, delete; exit 1 when any are left."""
    if args.lab is not None and not lab_slug(args.lab):
        raise UsageError(f"lab name '{args.lab}' has no letter or digit; e.g. --lab myblog")
    if os.environ.get(OPT_IN) != "1":
        what = f"--lab {args.lab}" if args.lab else "--all"
        print(
            f"labbook: teardown deletes resources in a real AWS account, so it needs the opt-in: "
            f"{OPT_IN}=1 labbook teardown {what}",
            file=sys.stderr,
        )
        return 2
    teardown = importlib.import_module("helpers.teardown")
    factory = aws_client_factory()
    regions = args.region or default_regions()
    lab = lab_slug(args.lab) if args.lab else None
    resources = list(
        teardown.discover(
            factory,
            regions=regions,
            tag_key=TAG_KEY,
            tag_value=lab,
            # only names Lab.name() makes for this lab: "<lab>-<6 hex run id>-..." (IoT:
            # "<lab>_<run id>_..."), never a user's own "<lab>-prod" bucket
            **({"name_prefix": f"{lab}-", "run_id_names": True} if lab else {}),
        )
    )
    scope = f"lab '{lab}'" if lab else "every lab"
    if not resources:
        print(f"Nothing to tear down for {scope} in {', '.join(regions)}.")
        _forget_runs(factory, lab)
        return 0
    rows = [(r.service, r.kind, r.id, r.region) for r in resources]
    print(f"Found {len(resources)} resources of {scope} in {', '.join(regions)}:")
    print(format_table(("service", "kind", "id", "region"), rows))
    if not args.yes and not _confirm(len(resources)):
        print("Nothing deleted.")
        return 1
    report = teardown.teardown(resources, factory, wait=True)  # real AWS: wait for dependants
    print(report)
    if report.clean:
        _forget_runs(factory, lab)
    return 0 if report.clean else 1


def _forget_runs(factory: Any, lab: str | None) -> None:
    """Clear the records of unfinished runs (helpers.runs) once their resources are gone."""
    from helpers import runs

    try:
        account = factory("sts", "us-east-1").get_caller_identity()["Account"]
    except Exception as exc:  # the teardown itself succeeded: say so, keep the records
        print(f"labbook: could not clear the records of earlier runs ({exc})", file=sys.stderr)
        return
    for entry in runs.unfinished(account, lab):
        runs.finish(account, str(entry["prefix"]))


# --- entry point ----------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line."""

    def error(self, message: str) -> Any:
        """Raise a UsageError instead of printing usage and exiting."""
        raise UsageError(f"{message} (see: {self.prog} --help)")


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve a chapter's site from an offline lab until interrupted."""
    from .serve import serve

    try:
        return serve(args.chapter, repo_root(), port=args.port)
    except ValueError as error:
        raise UsageError(str(error)) from error


def cmd_student(args: argparse.Namespace) -> int:
    """Write (or with --check, verify) every lab's student notebook from its solution."""
    from .labs import generate, solutions

    root = repo_root()
    if not solutions(root):
        raise UsageError(
            f"no lab solutions under {root}/labs (labs/NN-arch/solution/*-solution.ipynb)"
        )
    changed = generate(root, check=args.check)
    for path in changed:
        verb = "out of date" if args.check else "written"
        print(f"{_display(path)}: {verb}")
    if args.check and changed:
        print("run `labbook student` to regenerate them", file=sys.stderr)
        return 1
    if not changed:
        print("student notebooks are up to date")
    return 0


def _architecture_key(given: str) -> str:
    """'myblog', '01-myblog' or '1' -> 'myblog'; a usage error names the choices."""
    from . import quiz

    keys = [a.key for a in quiz.architectures()]
    text = given.strip().lower()
    for number, key in enumerate(keys, 1):
        if text in (key, f"{number:02d}-{key}", str(number), f"{number:02d}"):
            return key
    raise UsageError(f"no architecture {given!r}; choose one of: {', '.join(keys)}")


def cmd_quiz(args: argparse.Namespace) -> int:
    """Practice questions with explanations, or sit a timed exam with a score at the end."""
    import random

    from . import quiz

    key = _architecture_key(args.architecture) if args.architecture else None
    pool = quiz.load_bank(key)
    where = key or "all"
    if args.exam is not None:
        try:
            questions = quiz.exam_questions(pool, args.exam, seed=args.seed)
        except ValueError as error:
            raise UsageError(str(error)) from error
        limit = args.exam * quiz.SECONDS_PER_QUESTION
        print(
            f"Exam: {len(questions)} questions on {where}, {limit // 60} minutes "
            f"({quiz.SECONDS_PER_QUESTION // 60} per question, as in the real exam); an answer "
            "given after the time is up is not counted. Explanations come at the end."
        )
        result = quiz.run_quiz(questions, mode="exam", architecture=where, limit_seconds=limit)
    else:
        questions = list(pool)
        random.Random(args.seed).shuffle(questions)
        named = f"{key} ({quiz.architecture(key).title})" if key else "every architecture"
        print(f"Practice: {len(questions)} questions on {named}; each answer is explained.")
        result = quiz.run_quiz(questions, mode="practice", architecture=where)
    print(quiz.format_result(result))
    return 0


def cmd_progress(args: argparse.Namespace) -> int:
    """Show the labs' checks passed and the quiz scores kept on this machine."""
    from . import checks, progress

    data = progress.load()
    rows = []
    for lab in checks.LABS:
        names = [c.name for c in checks.checks_of(lab)]
        seen = data["labs"].get(lab, {})
        passed = [n for n in names if seen.get(n, {}).get("passed")]
        state = "passed" if names and len(passed) == len(names) else "not started"
        if passed and len(passed) < len(names):
            todo = next(n for n in names if n not in passed)
            state = f"next: check.{todo}"
        rows.append((lab, f"{len(passed)}/{len(names)}", state))
    print("Labs (checks passed)")
    print(format_table(("lab", "checks", "state"), rows))
    scores: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for entry in data["quiz"]:
        scores.setdefault((entry["architecture"], entry["mode"]), []).append(entry)
    print("\nQuiz")
    if not scores:
        print("  none yet: try `labbook quiz myblog` or `labbook quiz --exam 20`")
    else:
        rows = []

        def shown(entry: dict[str, Any]) -> str:
            percent = round(100 * entry["score"] / entry["total"])
            return f"{entry['score']}/{entry['total']} ({percent} %)"

        for (arch, mode), entries in sorted(scores.items()):
            # the best of the rounds as long as the longest one: 1/1 is not better than 9/10
            longest = max(e["total"] for e in entries)
            full = [e for e in entries if e["total"] == longest]
            best = max(full, key=lambda e: e["score"])
            rows.append((arch, mode, str(len(entries)), shown(entries[-1]), shown(best)))
        print(format_table(("architecture", "mode", "rounds", "last", "best of the longest"), rows))
    print(f"\nkept in {_display(progress.path())}")
    return 0


def cmd_grade(args: argparse.Namespace) -> int:
    """Run learners' lab notebooks headless and report the checks each one passes."""
    import nbformat

    from .labs import grade, lab_id

    root = repo_root()
    backend = check_backend_name(args.backend) if args.backend else DEFAULT_BACKEND
    rows, problems, complete = [], [], True
    for given in args.notebooks:
        path = Path(given)
        if not path.is_file() or path.suffix != ".ipynb":
            raise UsageError(f"no notebook at '{given}'; give a learner's .ipynb file")
        try:
            lab = lab_id(nbformat.read(path, as_version=4), path)
        except ValueError as error:
            raise UsageError(str(error)) from error
        results = grade(path, root, backend=backend, timeout=args.timeout)
        passed = sum(r.passed for r in results)
        failed = next((r for r in results if not r.passed), None)
        note = "all checks pass"
        if failed is not None:
            note = f"check.{failed.name} ({failed.ename})"
            reason = (failed.evalue or "").strip() or str(failed.ename)
            problems.append(
                f"{_display(path)}: check.{failed.name}\n  " + reason.replace("\n", "\n  ")
            )
        complete = complete and failed is None
        rows.append((_display(path), lab, f"{passed}/{len(results)}", note))
    print(format_table(("notebook", "lab", "checks", "first problem"), rows))
    if problems:
        print("\nWhat each first problem said:\n\n" + "\n\n".join(problems))
    return 0 if complete else 1


def build_parser() -> argparse.ArgumentParser:
    """Return the parser for `labbook` and its subcommands."""
    parser = _Parser(prog="labbook", description="Serverless Architectures Lab Book tools.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = sub.add_parser(
        "run",
        help="execute notebooks headless and report each one",
        description="Execute notebooks headless, each in its own folder, and print a table. "
        "A failing cell is named by its index counting from 0 over all cells, as nbval does.",
    )
    run.add_argument(
        "notebooks", nargs="*", metavar="NOTEBOOK", help="notebook or folder (default: all)"
    )
    run.add_argument(
        "--backend", metavar="NAME", help=f"LAB_BACKEND for the kernels: {', '.join(BACKENDS)}"
    )
    run.add_argument(
        "--write", action="store_true", help="save outputs back into passing notebooks"
    )
    run.add_argument(
        "--timeout", type=float, default=600, metavar="S", help="seconds per cell (600)"
    )
    run.set_defaults(handler=cmd_run)
    doctor = sub.add_parser("doctor", help="check Python, packages, Graphviz, backend and disk")
    doctor.set_defaults(handler=cmd_doctor)
    down = sub.add_parser(
        "teardown", help=f"delete a lab's resources on a real account ({OPT_IN}=1)"
    )
    which = down.add_mutually_exclusive_group(required=True)
    which.add_argument("--lab", metavar="NAME", help="the lab whose resources to delete")
    which.add_argument("--all", action="store_true", help="every lab's resources")
    down.add_argument(
        "--region", action="append", metavar="R", help="region to search (repeatable)"
    )
    down.add_argument("--yes", action="store_true", help="delete without asking")
    down.set_defaults(handler=cmd_teardown)
    serve = sub.add_parser(
        "serve",
        help="build a chapter's lab offline and serve its site on 127.0.0.1 for a browser",
        description="Run the chapter's notebook on the moto-server backend up to its clean-up, "
        "then serve the lab's CloudFront site (and its API) at http://127.0.0.1:PORT/ until "
        "Ctrl-C, which tears the lab down.",
    )
    serve.add_argument("chapter", metavar="CHAPTER", help="e.g. myblog")
    serve.add_argument(
        "--port", type=int, default=8080, metavar="N", help="port on 127.0.0.1 (8080; 0 = any free)"
    )
    serve.set_defaults(handler=cmd_serve)
    student = sub.add_parser(
        "student",
        help="generate each lab's student notebook from its solution",
        description="Write labs/NN-arch/student/NN-arch-student.ipynb from "
        "labs/NN-arch/solution/NN-arch-solution.ipynb: cells tagged `solution` become `# TODO` "
        "stubs with their hint, outputs are cleared.",
    )
    student.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if a student notebook is stale"
    )
    student.set_defaults(handler=cmd_student)
    quiz = sub.add_parser(
        "quiz",
        help="exam questions in the terminal: practice, or a timed exam (--exam N)",
        description="Practice: every question of an architecture (or of all), each answer "
        "explained at once. Exam: N questions drawn over the architectures, 2 minutes each, "
        "a score at the end and the explanation of every question missed.",
    )
    quiz.add_argument(
        "architecture", nargs="?", metavar="ARCH", help="myblog, microservices, ... (default: all)"
    )
    quiz.add_argument("--exam", type=int, metavar="N", help="a timed exam of N questions")
    quiz.add_argument("--seed", type=int, metavar="S", help="draw the same questions again")
    quiz.set_defaults(handler=cmd_quiz)
    grade = sub.add_parser(
        "grade",
        help="run learners' lab notebooks headless and count the checks each passes",
        description="Each notebook runs in a fresh copy of its lab's folder, carrying on past "
        "errors, offline unless --backend says otherwise; the table shows the checks passed "
        "and the first one that failed, with its message. Exit 1 unless all pass.",
    )
    grade.add_argument("notebooks", nargs="+", metavar="NOTEBOOK", help="a learner's notebook")
    grade.add_argument(
        "--backend",
        metavar="NAME",
        help=f"LAB_BACKEND for the kernels: {', '.join(BACKENDS)} (default: {DEFAULT_BACKEND})",
    )
    grade.add_argument(
        "--timeout", type=float, default=600, metavar="S", help="seconds per cell (600)"
    )
    grade.set_defaults(handler=cmd_grade)
    prog = sub.add_parser("progress", help="labs passed and quiz scores, kept on this machine")
    prog.set_defaults(handler=cmd_progress)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run `labbook`; return the exit code (0 ok, 1 something failed, 2 usage error)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        return args.handler(args)
    except UsageError as error:
        print(f"labbook: error: {error}", file=sys.stderr)
        return 2
    except SystemExit as done:  # --help
        return int(done.code or 0)
    except KeyboardInterrupt:
        print("labbook: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `labbook progress | head`: the reader has gone, nothing to say
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
