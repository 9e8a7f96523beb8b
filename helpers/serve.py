"""`labbook serve LAB`: build a chapter's lab offline and serve its site for a browser.

The chapter's notebook is the recipe: its cells run in a kernel on the moto-server backend, up to
(not including) the clean-up, so the lab is exactly what the notebook builds. The lab's HTTP front
then answers a browser at its own address with the lab's CloudFront distribution, and the emails
the lab sends are printed as they go. Ctrl-C (or SIGTERM) runs the clean-up cells and stops.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

PORT_VAR = "LABBOOK_FRONT_PORT"
_STOP = "lab.teardown()"


def find_notebook(name: str, root: Path) -> Path:
    """The course notebook whose folder names the chapter (`myblog` → notebooks/01-myblog/...)."""
    slug = name.strip().lower()
    found = sorted(
        p
        for p in (root / "notebooks").glob("*/*.ipynb")
        if slug and (p.parent.name == slug or p.parent.name.split("-", 1)[-1] == slug)
    )
    if not found:
        known = sorted(
            p.parent.name.split("-", 1)[-1] for p in (root / "notebooks").glob("*/*.ipynb")
        )
        raise ValueError(f"no chapter named {name!r}: choose one of {', '.join(known)}")
    return found[0]


def build_cells(nb: Any) -> tuple[list[int], list[int]]:
    """(indices of code cells that build the lab, indices of the clean-up cells)."""
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip()]
    stop = next((i for i in code if _STOP in nb.cells[i].source), None)
    if stop is None:
        raise ValueError(f"the notebook has no `{_STOP}` cell: nothing marks its clean-up")
    return [i for i in code if i < stop], [i for i in code if i >= stop]


PUBLISH = """
import json as _json
_cf = lab.client("cloudfront")
_items = _cf.list_distributions().get("DistributionList", {}).get("Items", [])
_site = _items[0]["DomainName"] if _items else None
lab.emulator.front.default_host = _site
# the browser's origin is the front's address, not the distribution's: buckets that let the site
# upload (CORS) let the front's origin too, as one does for local development
_s3, _cors = lab.client("s3"), []
for _b in _s3.list_buckets()["Buckets"]:
    try:
        _rules = _s3.get_bucket_cors(Bucket=_b["Name"])["CORSRules"]
    except _s3.exceptions.ClientError:
        continue
    for _rule in _rules:
        if f"https://{_site}" in _rule.get("AllowedOrigins", []):
            _rule["AllowedOrigins"].append(lab.http_endpoint)
            _cors.append(_b["Name"])
    if _b["Name"] in _cors:
        _s3.put_bucket_cors(Bucket=_b["Name"], CORSConfiguration={"CORSRules": _rules})
print(_json.dumps({"front": lab.http_endpoint, "endpoint": lab.endpoint_url, "site": _site,
                   "cors": _cors}))
"""
OUTBOX = """
import json as _json
_mails = lab.outbox()
print(_json.dumps([{"to": m["destinations"].get("ToAddresses", []), "subject": m["subject"]}
                   for m in _mails]))
"""


def serve(name: str, root: Path, port: int = 8080, out: Any = None) -> int:
    """Build the chapter's lab, print where to browse, relay its emails; tear down on exit."""
    import nbformat
    from nbclient import NotebookClient

    from .cli import _current_env_kernel_manager

    out = out or sys.stdout
    path = find_notebook(name, root)
    nb = nbformat.read(path, as_version=4)
    build, cleanup = build_cells(nb)
    env = dict(os.environ, LAB_BACKEND="moto-server", **{PORT_VAR: str(port)})
    env.pop("LABBOOK_ALLOW_AWS", None)  # serving is offline only
    client = NotebookClient(
        nb,
        timeout=600,
        kernel_manager_class=_current_env_kernel_manager(),
        resources={"metadata": {"path": str(path.parent.resolve())}},
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
    )
    stopping = {"now": False}

    def on_term(signum: int, frame: Any) -> None:
        stopping["now"] = True

    previous = signal.signal(signal.SIGTERM, on_term)
    with client.setup_kernel(env=env):
        try:
            print(
                f"Building the {path.parent.name} lab offline (moto-server)...",
                file=out,
                flush=True,
            )
            for i in build:
                client.execute_cell(nb.cells[i], i)
            info = json.loads(_run(client, PUBLISH).strip().splitlines()[-1])
            if not info["site"]:
                raise ValueError(f"{path.name} builds no CloudFront distribution: nothing to serve")
            for bucket in info["cors"]:
                print(f"(bucket {bucket} also allows uploads from {info['front']})", file=out)
            print(
                f"Serving {info['site']} at {info['front']}/  (open it in a browser)\n"
                f"curl:    curl -H 'Host: {info['site']}' {info['front']}/api/posts\n"
                f"AWS CLI: aws --endpoint-url {info['endpoint']} ...\n"
                "Emails the lab sends appear below. Ctrl-C stops and tears the lab down.",
                file=out,
                flush=True,
            )
            seen = len(json.loads(_run(client, OUTBOX)))
            while not stopping["now"]:
                time.sleep(1)
                mails = json.loads(_run(client, OUTBOX))
                for mail in mails[seen:]:
                    print(
                        f"email to {', '.join(mail['to'])}: {mail['subject']}", file=out, flush=True
                    )
                seen = len(mails)
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
            if _run(client, "print('lab' in globals())").strip().endswith("True"):
                print("Tearing the lab down...", file=out, flush=True)
                for i in cleanup:
                    client.execute_cell(nb.cells[i], i)
                print("Stopped; nothing left.", file=out, flush=True)
            else:  # the build failed before a lab existed: its error is the one to see
                print("Stopped; no lab was started.", file=out, flush=True)
    return 0


def _run(client: Any, source: str) -> str:
    """Run `source` in the lab's kernel and return what it printed."""
    import nbformat

    cell = nbformat.v4.new_code_cell(source)
    client.execute_cell(cell, 0, store_history=False)
    return "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")
