"""Build a Lambda deployment package (.zip) from handler files and their pip requirements.

The package holds what `pip install --target` would put beside the handler for AWS's Python
runtime (Amazon Linux, CPython, x86_64 or arm64), and checks the handler exists. AWS's runtime
already provides boto3 and botocore: they are bundled only when asked for by name.
https://docs.aws.amazon.com/lambda/latest/dg/python-package.html
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import io
import os
import platform
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

_FIXED_TIME = (2020, 1, 1, 0, 0, 0)  # same bytes for the same sources: CodeSha256 stays stable
# Lambda quotas: a .zip uploaded directly (ZipFile) is at most 50 MB; a function's package and
# layers, unzipped, at most 250 MB (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html)
MAX_ZIPPED_BYTES = 50 * 1024 * 1024
MAX_UNZIPPED_BYTES = 250 * 1024 * 1024
PROVIDED_BY_RUNTIME = frozenset({"boto3", "botocore"})  # bundled only when named
_ARCHITECTURES = {"x86_64": "x86_64", "arm64": "aarch64"}  # Lambda's name -> the machine's
_NOT_COPIED = ("direct_url.json", "REQUESTED")  # install-time notes naming this machine's paths

Entries = dict[str, tuple[bytes, int]]  # name in the zip -> (content, unix mode)


class PackagingError(ValueError):
    """A package that cannot be built as asked, with what to change."""


@dataclass(frozen=True)
class Target:
    """The Lambda runtime a package is built for: CPython version and machine architecture."""

    runtime: str  # python3.12
    architecture: str  # x86_64 or arm64
    local: bool = False  # for the offline runtime: runs here, on this interpreter and machine

    @property
    def version(self) -> str:
        return self.runtime.removeprefix("python")

    @property
    def machine(self) -> str:
        return _ARCHITECTURES[self.architecture]

    @property
    def glibc(self) -> tuple[int, int]:
        """python3.12 and later run on Amazon Linux 2023 (glibc 2.34), earlier on AL2 (2.26)."""
        return (2, 34) if _version_tuple(self.version) >= (3, 12) else (2, 26)

    @property
    def is_this_python(self) -> bool:
        """True when this interpreter could run in the target runtime (same CPython, OS, CPU)."""
        return (
            sys.implementation.name == "cpython"
            and sys.platform == "linux"
            and platform.machine() == self.machine
            and self.version == f"{sys.version_info.major}.{sys.version_info.minor}"
        )

    def marker_environment(self, extra: str = "") -> dict[str, str]:
        """PEP 508 marker values in the target runtime."""
        return {
            "implementation_name": "cpython",
            "platform_python_implementation": "CPython",
            "os_name": "posix",
            "sys_platform": "linux",
            "platform_system": "Linux",
            "platform_machine": self.machine,
            "python_version": self.version,
            # this interpreter's own patch level when it is the runtime (the offline runtime
            # runs here); for AWS's runtimes, whose patch level moves, the .0 release
            "python_full_version": platform.python_version()
            if self.is_this_python
            else f"{self.version}.0",
            "extra": extra,
        }

    def pip_platforms(self) -> list[str]:
        """The manylinux platform tags whose wheels run on the target's glibc, newest first."""
        major, minor = self.glibc
        tags = [f"manylinux_{major}_{m}_{self.machine}" for m in range(minor, 16, -1)]
        return [*tags, f"manylinux2014_{self.machine}"]  # pip adds manylinux2010/1 for x86_64


def package(
    *paths: str | Path,
    handler: str | None = None,
    requirements: Iterable[str] = (),
    runtime: str | None = None,
    architecture: str = "x86_64",
    local: bool = False,
) -> bytes:
    """Zip files, folders and pip requirements into a deployment package for a Python runtime.

    `requirements` are pip requirement strings ("pillow", "pillow>=10"), installed with their
    dependencies at the root of the zip. `runtime` and `architecture` are the function's
    (create_function's Runtime and Architectures; default: this Python's version, x86_64).
    `local=True` builds for the offline runtime, which runs on this machine: requirements are
    copied from this environment, with no network. With `handler`, check the package defines it.
    (`lab.package(...)` picks runtime and local for the lab's backend.)
    """
    if not paths:
        raise PackagingError(
            "package() needs at least one file or folder, e.g. package('functions/app.py')"
        )
    target = _target(runtime, architecture, local)
    files = _files(paths)
    if isinstance(requirements, str):  # requirements="pillow": one requirement, not letters
        requirements = [requirements]
    entries: Entries = dict(_requirement_entries(tuple(requirements), target))
    entries.update({name: (data, 0o644) for name, data in files.items()})  # your files win
    if handler is not None:
        check_handler({name: data for name, (data, _) in entries.items()}, handler)
    return _zip(entries)


def _target(runtime: str | None, architecture: str, local: bool = False) -> Target:
    """Check create_function-style runtime and architecture names."""
    runtime = runtime or f"python{sys.version_info.major}.{sys.version_info.minor}"
    if not re.fullmatch(r"python3\.\d+", runtime):
        raise PackagingError(
            f"runtime {runtime!r}: package() builds for Lambda's Python runtimes; pass the "
            "function's Runtime, e.g. runtime='python3.12'"
        )
    if architecture not in _ARCHITECTURES:
        raise PackagingError(
            f"architecture {architecture!r}: Lambda runs 'x86_64' or 'arm64'; pass the "
            "function's Architectures value"
        )
    target = Target(runtime, architecture, local)
    if local and not target.is_this_python:
        raise PackagingError(
            f"local=True builds for the offline runtime, which is this Python "
            f"(python{sys.version_info.major}.{sys.version_info.minor} on {platform.machine()}), "
            f"not {runtime} on {architecture}: pass runtime=lab.runtime, or use lab.package()"
        )
    return target


def _files(paths: Iterable[str | Path]) -> dict[str, bytes]:
    """The handler's own files: each file at the root, each folder's content at the root."""
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
    return entries


def _zip(entries: Entries) -> bytes:
    """Deterministic zip bytes (sorted names, fixed times), refused over Lambda's size quotas."""
    unzipped = sum(len(data) for data, _ in entries.values())
    if unzipped > MAX_UNZIPPED_BYTES:
        raise PackagingError(
            f"the package is {_mb(unzipped)} unzipped; Lambda allows {_mb(MAX_UNZIPPED_BYTES)} "
            "for a function's package and layers: drop requirements the handler does not "
            "import, or use a container image"
        )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, (data, mode) in sorted(entries.items()):
            info = zipfile.ZipInfo(name, _FIXED_TIME)
            info.external_attr = mode << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    data = buf.getvalue()
    if len(data) > MAX_ZIPPED_BYTES:
        raise PackagingError(
            f"the package is {_mb(len(data))} zipped; Lambda accepts {_mb(MAX_ZIPPED_BYTES)} "
            "uploaded directly (ZipFile): move the requirements to a layer, or drop the ones "
            "the handler does not import"
        )
    return data


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


# --- requirements ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _requirement_entries(requirements: tuple[str, ...], target: Target) -> tuple:
    """The files pip would install for the requirements (and their dependencies) for target."""
    if not requirements:
        return ()
    reqs = [_parse(r) for r in requirements]
    if target.is_this_python:
        try:
            dists = _closure(reqs, target, _installed)
            return tuple(_dist_entries(dists))
        except _NotHere:
            pass  # not installed here, or not as AWS can run it: ask pip for the target
    with tempfile.TemporaryDirectory(prefix="labbook-package-") as dest:
        _pip_install(requirements, target, dest)
        found = {
            canonicalize_name(d.metadata["Name"]): d
            for d in importlib.metadata.distributions(path=[dest])
        }
        try:
            dists = _closure(reqs, target, found.get)
        except _NotHere as missing:
            raise PackagingError(
                f"pip installed {', '.join(requirements)} for {target.runtime} without "
                f"{missing}, which they need there; add it to requirements"
            ) from None
        return tuple(_dist_entries(dists))


def _parse(text: str) -> Requirement:
    try:
        return Requirement(text)
    except InvalidRequirement as exc:
        raise PackagingError(
            f"requirement {text!r} is not a pip requirement ({exc}); write it as pip does, "
            "e.g. 'pillow' or 'pillow>=10'"
        ) from None


class _NotHere(Exception):
    """The installed distributions cannot make the package (missing, other version, not portable)."""


def _installed(name: str) -> importlib.metadata.Distribution | None:
    try:
        return importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _closure(
    reqs: list[Requirement],
    target: Target,
    find: Callable[[str], importlib.metadata.Distribution | None],
) -> list[importlib.metadata.Distribution]:
    """The distributions the requirements need in the target runtime (boto3 and botocore only
    when one is named); raises _NotHere when one is missing, of another version or not portable."""
    named = {canonicalize_name(r.name) for r in reqs}
    # AWS's runtime has the SDK: bundle it, whole, only when asked for by name
    provided = frozenset() if named & PROVIDED_BY_RUNTIME else PROVIDED_BY_RUNTIME
    found: dict[str, importlib.metadata.Distribution] = {}
    seen: set[tuple[str, frozenset[str]]] = set()  # (name, extras) whose needs are listed
    todo = [r for r in reqs if r.marker is None or r.marker.evaluate(target.marker_environment())]
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if name in provided:
            continue  # the runtime has it
        dist = found.get(name) or find(name)
        if dist is None or not req.specifier.contains(dist.version, prereleases=True):
            raise _NotHere(name)
        if name not in found and not _runs_on(dist, target):
            raise _NotHere(name)
        found[name] = dist
        if (name, frozenset(req.extras)) not in seen:
            seen.add((name, frozenset(req.extras)))
            todo.extend(_dependencies(dist, req.extras, target))
    return [found[n] for n in sorted(found)]


def _dependencies(
    dist: importlib.metadata.Distribution, extras: set[str], target: Target
) -> list[Requirement]:
    """A distribution's requirements that apply in the target runtime with these extras."""
    needed = []
    for line in dist.requires or []:
        req = Requirement(line)
        marker: Marker | None = req.marker
        if marker is None or any(
            marker.evaluate(target.marker_environment(extra)) for extra in ("", *extras)
        ):
            needed.append(req)
    return needed


def _runs_on(dist: importlib.metadata.Distribution, target: Target) -> bool:
    """Whether an installed distribution's files run in the target: pure Python, or from a
    manylinux wheel for the target's machine that the target's glibc supports."""
    wheel = dist.read_text("WHEEL") or ""
    if target.local or "Root-Is-Purelib: true" in wheel:
        return True  # installed here, so it runs here
    tags = [line.split(":", 1)[1].strip() for line in wheel.splitlines() if line.startswith("Tag:")]
    if not tags:  # not installed from a wheel: portable only if nothing is compiled
        return not any(str(f).endswith(".so") for f in dist.files or [])
    return any(_platform_runs_on(tag.rsplit("-", 1)[-1], target) for tag in tags)


def _platform_runs_on(platform_tag: str, target: Target) -> bool:
    """manylinux_2_28_x86_64 runs where glibc >= 2.28 on x86_64; `any` runs anywhere."""
    if platform_tag == "any":
        return True
    legacy = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
    for tag in platform_tag.split("."):
        m = re.fullmatch(r"manylinux_(\d+)_(\d+)_(\w+)", tag)
        if m:
            glibc, machine = (int(m[1]), int(m[2])), m[3]
        else:
            prefix, _, machine = tag.partition("_")
            if prefix not in legacy:
                continue
            glibc = legacy[prefix]
        if machine == target.machine and glibc <= target.glibc:
            return True
    return False


def _dist_entries(dists: list[importlib.metadata.Distribution]) -> Iterable[tuple]:
    """(name in the zip, (bytes, mode)) for each file the distributions installed in site-packages
    (from their RECORD), without bytecode caches or scripts installed elsewhere."""
    for dist in dists:
        for file in dist.files or []:
            parts = file.parts
            if parts[0] == ".." or "__pycache__" in parts or file.name in _NOT_COPIED:
                continue
            path = Path(str(dist.locate_file(file)))
            if path.is_file():
                mode = 0o755 if os.access(path, os.X_OK) and path.suffix != ".so" else 0o644
                yield file.as_posix(), (path.read_bytes(), mode)


def _pip_install(requirements: tuple[str, ...], target: Target, dest: str) -> None:
    """Install the target's wheels into dest, as AWS's guide does for another platform."""
    platforms = [arg for tag in target.pip_platforms() for arg in ("--platform", tag)]
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-input",
        "--no-compile",
        "--target",
        dest,
        "--implementation",
        "cp",
        "--python-version",
        target.version,
        "--only-binary=:all:",
        *platforms,
        *requirements,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        errors = [ln for ln in done.stderr.splitlines() if ln.startswith("ERROR")]
        why = "; ".join(errors[-2:]) or done.stderr.strip()[-300:] or "pip failed"
        raise PackagingError(
            f"cannot bundle {', '.join(requirements)} for {target.runtime} on "
            f"{target.architecture}: this Python ({platform.python_version()}, "
            f"{platform.machine()}) cannot supply them as installed, and pip could not fetch "
            f"Linux wheels for that runtime ({why}). Connect to the network (pip downloads "
            "manylinux wheels from PyPI), pin a version that has manylinux wheels, or build "
            "for this Python: runtime="
            f"'python{sys.version_info.major}.{sys.version_info.minor}' in package() and in "
            "create_function"
        )


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


# --- the handler check ----------------------------------------------------------------------


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
