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


def main() -> None:
    """Set up the worker as AWS's Python runtime is set up, then run the runtime client."""
    config = json.loads(os.environ.pop("_LABBOOK_WORKER"))
    import worker_logs  # noqa: F401  (output to the telemetry pipe, before anything prints)

    _restore_site_builtins()
    stdlib = [p for p in sys.path[1:] if p not in config["path"]]
    # the runtime client comes from the runtime's folder, whatever the package holds
    sys.path[:] = [config["runtime_packages"], *stdlib]
    from awslambdaric.__main__ import main as run_runtime_client

    sys.path[:] = [*config["path"], *stdlib]
    _hide_other_abi_extensions(config["code_roots"], config["runtime_version"])
    run_runtime_client(sys.argv)


if __name__ == "__main__":
    main()
