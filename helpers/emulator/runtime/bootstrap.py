"""The offline Lambda worker's entry point, as /var/runtime/bootstrap is on AWS.

Started as `python -S bootstrap.py HANDLER`: with -S the interpreter adds no site-packages, so
the course's virtual environment (Pillow, requests, moto, helpers...) is not on the import path.
This script then gives the handler the import path of AWS's Python runtime, in AWS's order:

    the function's package (/var/task)
    its layers (/opt/python/lib/python3.X/site-packages, then /opt/python)
    what the runtime provides (boto3 and its dependencies, the runtime interface client)
    the standard library

and starts AWS's runtime interface client (awslambdaric), which imports the handler and turns
a missing module into AWS's `Runtime.ImportModuleError`. The emulator passes the folders in the
_LABBOOK_WORKER environment variable (JSON), removed here before the handler runs.

Offline, it also gives the handler AWS's network as far as the lab serves it (`_reach_front`):
the host names of AWS's HTTP data planes that the lab's front serves (API Gateway, CloudFront,
load balancers...; their patterns come in `front`) resolve to the front, on any port, so any
HTTP client reaches them; and the lab's certificate authority, which signs the front's
certificate, is trusted by a CA file a client loads itself, as Amazon's roots are by every public
trust store (the default trust store is the worker's SSL_CERT_FILE, set by the emulator).

A function with `FileSystemConfigs` sees each Amazon EFS access point at its LocalMountPath
(`_mount_file_systems`; the pairs come in `mounts`). The worker is an ordinary process that cannot
mount anything, so the paths are mapped where Python reaches the file system: a path at or under
a mount path (`/mnt/updates/v1/app.zip`) is the access point's directory on this machine for
open() (builtins and io: pathlib, tempfile, shutil, zipfile use them), os.open, os.stat / lstat
(os.path.exists, isfile, isdir, getsize...), os.listdir, os.scandir (os.walk, glob, Path.glob),
os.mkdir (os.makedirs), os.remove / unlink, os.rmdir, os.rename / replace / link, os.symlink's
link, os.chmod, os.chown, os.utime, os.access, os.readlink, os.truncate, os.statvfs and os.chdir;
the handler sees only its mount paths: os.getcwd(), DirEntry.path and the file names in OSError
are given back under the mount path. Paths outside the mount paths, and relative paths, are left
to the kernel as they are. Simplified: code that reaches the file system without these functions
(C extensions such as sqlite3, subprocesses) sees this machine's paths; the kernel follows a
symbolic link whose target is an absolute /mnt/... path on this machine, not in the mount;
os.scandir's entries are stand-ins, not os.DirEntry instances; and the traceback of an OSError
from a mapped function has one more frame (this file's `call`) than on AWS.
"""

import json
import os
import sys
from importlib.machinery import (
    BYTECODE_SUFFIXES,
    EXTENSION_SUFFIXES,
    SOURCE_SUFFIXES,
    ExtensionFileLoader,
    FileFinder,
    SourceFileLoader,
    SourcelessFileLoader,
)


def _restore_site_builtins() -> None:
    """exit(), quit(), help() and copyright exist on AWS; -S skipped the `site` code adding them."""
    import site

    site.setquit()
    site.setcopyright()
    site.sethelper()


def _hide_other_abi_extensions(code_roots: list[str], runtime_version: str) -> None:
    """In the function's own folders, load only compiled modules the function's runtime can load.

    The worker is this machine's Python; when the function declares another version (say
    python3.12 on a 3.11 interpreter), a module compiled for 3.11 in the package would load here
    and fail on AWS. It is made invisible, as it is there (stable-ABI `.abi3.so` modules stay).
    """
    local = f"{sys.version_info.major}.{sys.version_info.minor}"
    if runtime_version in ("", local):
        return
    suffixes = [s for s in EXTENSION_SUFFIXES if not s.startswith(".cpython-")]
    loaders = [
        (ExtensionFileLoader, suffixes),
        (SourceFileLoader, SOURCE_SUFFIXES),
        (SourcelessFileLoader, BYTECODE_SUFFIXES),
    ]
    roots = tuple(os.path.join(r, "") for r in code_roots)

    def function_code_finder(path: str) -> FileFinder:
        if not os.path.join(path, "").startswith(roots):
            raise ImportError("not the function's code")  # the next path hook takes it
        return FileFinder(path, *loaders)

    sys.path_hooks.insert(0, function_code_finder)
    sys.path_importer_cache.clear()


def _reach_front(front: dict) -> None:
    """Resolve the hosts the lab's front serves to it, and trust the lab CA in CA files."""
    import re
    import socket
    import ssl

    patterns = [re.compile(p) for p in front["hosts"]]
    address = ("127.0.0.1", front["port"])
    resolve = socket.getaddrinfo

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):  # noqa: A002
        name = host.decode("ascii", "replace") if isinstance(host, bytes) else host
        if isinstance(name, str) and family in (socket.AF_UNSPEC, socket.AF_INET):
            name = name.lower().rstrip(".")
            if any(p.match(name) for p in patterns):
                # every port: the front serves HTTP and TLS on one, and the Host header keeps
                # the port the client asked for (a load balancer answers only its listeners')
                kind = type or socket.SOCK_STREAM
                udp = kind == socket.SOCK_DGRAM
                number = proto or (socket.IPPROTO_UDP if udp else socket.IPPROTO_TCP)
                return [(socket.AF_INET, kind, number, "", address)]
        return resolve(host, port, family, type, proto, flags)

    socket.getaddrinfo = getaddrinfo

    with open(front["ca_file"]) as f:
        lab_ca = f.read()
    load = ssl.SSLContext.load_verify_locations

    def load_verify_locations(context, cafile=None, capath=None, cadata=None):
        load(context, cafile, capath, cadata)
        if cafile is not None or capath is not None:  # a trust store (certifi's), not one CA
            load(context, cadata=lab_ca)

    ssl.SSLContext.load_verify_locations = load_verify_locations


# the os functions that take a path, and which of their arguments are paths (position, keyword)
_PATH_ARGUMENTS = {
    "stat": ((0, "path"),),
    "lstat": ((0, "path"),),
    "open": ((0, "path"),),
    "listdir": ((0, "path"),),
    "mkdir": ((0, "path"),),
    "remove": ((0, "path"),),
    "unlink": ((0, "path"),),
    "rmdir": ((0, "path"),),
    "chmod": ((0, "path"),),
    "chown": ((0, "path"),),
    "utime": ((0, "path"),),
    "access": ((0, "path"),),
    "readlink": ((0, "path"),),
    "truncate": ((0, "path"),),
    "statvfs": ((0, "path"),),
    "chdir": ((0, "path"),),
    "rename": ((0, "src"), (1, "dst")),
    "replace": ((0, "src"), (1, "dst")),
    "link": ((0, "src"), (1, "dst")),
    "symlink": ((1, "dst"),),  # the link; its target is stored as given, as on AWS
}


def _mount_file_systems(mounts: list) -> None:
    """Show each file system's directory at its mount path (/mnt/...) to the handler's Python."""
    import builtins
    import io
    import posixpath

    # longest mount path first; (mount path, directory on this machine)
    table = sorted(
        ((m.rstrip("/"), d.rstrip("/")) for m, d in mounts), key=lambda pair: -len(pair[0])
    )

    def local(path):
        """The path on this machine for a path at or under a mount path; anything else as is."""
        if isinstance(path, int):
            return path  # a file descriptor
        try:
            raw = os.fspath(path)
        except TypeError:
            return path  # not a path: the function raises its own TypeError
        text = os.fsdecode(raw)
        if not text.startswith("/"):
            return path  # relative: the kernel resolves it from the working directory
        clean = "/" + posixpath.normpath(text).lstrip("/")  # '..' never climbs out of a mount
        for mount, directory in table:
            if clean == mount or clean.startswith(mount + "/"):
                mapped = directory + clean[len(mount) :]
                if text.endswith("/"):
                    mapped += "/"  # "a file is not a directory" errors stay as they are
                return os.fsencode(mapped) if isinstance(raw, bytes) else mapped
        return path

    def shown(path):
        """A path on this machine as the handler knows it: under its mount path."""
        text = os.fsdecode(path)
        for mount, directory in table:
            if text == directory or text.startswith(directory + "/"):
                text = mount + text[len(directory) :]
                return os.fsencode(text) if isinstance(path, bytes) else text
        return path

    def show_error(exc):
        for attr in ("filename", "filename2"):
            value = getattr(exc, attr, None)
            if isinstance(value, str | bytes):
                setattr(exc, attr, shown(value))

    def mapped(function, arguments):
        def call(*args, **kwargs):
            if args:
                args = list(args)
                for position, _ in arguments:
                    if position < len(args):
                        args[position] = local(args[position])
            for _, keyword in arguments:
                if keyword in kwargs:
                    kwargs[keyword] = local(kwargs[keyword])
            try:
                return function(*args, **kwargs)
            except OSError as exc:
                show_error(exc)
                raise

        call.__name__ = function.__name__
        call.__qualname__ = getattr(function, "__qualname__", function.__name__)
        call.__doc__ = function.__doc__
        return call

    class DirEntry:
        """os.DirEntry of a mapped directory, with the path under the mount path."""

        __slots__ = ("_entry", "name", "path")

        def __init__(self, entry, path):
            self._entry = entry
            self.name = entry.name
            self.path = path

        def is_dir(self, *, follow_symlinks=True):
            return self._entry.is_dir(follow_symlinks=follow_symlinks)

        def is_file(self, *, follow_symlinks=True):
            return self._entry.is_file(follow_symlinks=follow_symlinks)

        def is_symlink(self):
            return self._entry.is_symlink()

        def stat(self, *, follow_symlinks=True):
            return self._entry.stat(follow_symlinks=follow_symlinks)

        def inode(self):
            return self._entry.inode()

        def __fspath__(self):
            return self.path

        def __repr__(self):
            return f"<DirEntry {self.name!r}>"

    class ScandirIterator:
        def __init__(self, iterator, top):
            self._iterator = iterator
            self._top = top

        def __iter__(self):
            return self

        def __next__(self):
            entry = next(self._iterator)
            return DirEntry(entry, posixpath.join(self._top, entry.name))

        def close(self):
            self._iterator.close()

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            self.close()

    original_scandir = os.scandir

    def scandir(path="."):
        target = local(path)
        if target is path:
            return original_scandir(path)
        try:
            return ScandirIterator(original_scandir(target), os.fspath(path))
        except OSError as exc:
            show_error(exc)
            raise

    original_getcwd, original_getcwdb = os.getcwd, os.getcwdb
    replacements = {name: mapped(getattr(os, name), a) for name, a in _PATH_ARGUMENTS.items()}
    replacements["scandir"] = scandir
    replacements["getcwd"] = lambda: shown(original_getcwd())
    replacements["getcwdb"] = lambda: shown(original_getcwdb())
    for name, replacement in replacements.items():
        original = getattr(os, name)
        for supported in (
            os.supports_dir_fd,
            os.supports_fd,
            os.supports_follow_symlinks,
            os.supports_effective_ids,
        ):
            if original in supported:  # what shutil and others check before passing dir_fd...
                supported.add(replacement)
        setattr(os, name, replacement)
    opener = mapped(builtins.open, ((0, "file"),))
    builtins.open = opener
    io.open = opener


def main() -> None:
    """Set up the worker as AWS's Python runtime is set up, then run the runtime client."""
    config = json.loads(os.environ.pop("_LABBOOK_WORKER"))
    import worker_logs  # noqa: F401  (output to the telemetry pipe, before anything prints)

    _restore_site_builtins()
    if config.get("front"):
        _reach_front(config["front"])
    if config.get("mounts"):
        _mount_file_systems(config["mounts"])
    stdlib = [p for p in sys.path[1:] if p not in config["path"]]
    # the runtime client comes from the runtime's folder, whatever the package holds
    sys.path[:] = [config["runtime_packages"], *stdlib]
    from awslambdaric.__main__ import main as run_runtime_client

    sys.path[:] = [*config["path"], *stdlib]
    _hide_other_abi_extensions(config["code_roots"], config["runtime_version"])
    run_runtime_client(sys.argv)


if __name__ == "__main__":
    main()
