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


def main() -> None:
    """Set up the worker as AWS's Python runtime is set up, then run the runtime client."""
    config = json.loads(os.environ.pop("_LABBOOK_WORKER"))
    import worker_logs  # noqa: F401  (output to the telemetry pipe, before anything prints)

    _restore_site_builtins()
    if config.get("front"):
        _reach_front(config["front"])
    stdlib = [p for p in sys.path[1:] if p not in config["path"]]
    # the runtime client comes from the runtime's folder, whatever the package holds
    sys.path[:] = [config["runtime_packages"], *stdlib]
    from awslambdaric.__main__ import main as run_runtime_client

    sys.path[:] = [*config["path"], *stdlib]
    _hide_other_abi_extensions(config["code_roots"], config["runtime_version"])
    run_runtime_client(sys.argv)


if __name__ == "__main__":
    main()
