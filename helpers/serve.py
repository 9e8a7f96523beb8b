"""`labbook serve LAB`: build a chapter's lab offline and serve its site for a browser.

The chapter's notebook is the recipe: its cells run in a kernel on the moto-server backend, up to
(not including) the clean-up, so the lab is exactly what the notebook builds. The lab's HTTP front
then answers a browser at its own address with the lab's CloudFront distribution, and the emails
the lab sends are printed as they go. A lab with Amazon Cognito user pools gets a fresh random
password for each of their users, printed with the user's groups and what the lab's tables say
about them (e.g. premium), so a person can sign in to the page. Ctrl-C (or SIGTERM) runs the
clean-up cells and stops.
"""

from __future__ import annotations

import json
import os
import secrets
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
USERS = """
import json as _json
from helpers.serve import reset_passwords as _reset_passwords
print(_json.dumps(_reset_passwords(lab.client("cognito-idp"), lab.client("dynamodb"), lab.prefix)))
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
                f"curl:    curl -H 'Host: {info['site']}' {info['front']}/\n"
                f"AWS CLI: aws --endpoint-url {info['endpoint']} ...",
                file=out,
                flush=True,
            )
            for line in sign_in_lines(json.loads(_run(client, USERS).strip().splitlines()[-1])):
                print(line, file=out, flush=True)
            print(
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


def reset_passwords(idp: Any, ddb: Any, prefix: str) -> list[dict[str, Any]]:
    """Give every user of the lab's user pools a new random password; describe each user."""
    tables = []
    for name in ddb.get_paginator("list_tables").paginate().search("TableNames"):
        if not name.startswith(prefix):
            continue
        keys = ddb.describe_table(TableName=name)["Table"]["KeySchema"]
        if len(keys) == 1:  # a table keyed by one attribute may be keyed by the user's email
            tables.append((name, keys[0]["AttributeName"]))
    users = []
    for pool in idp.get_paginator("list_user_pools").paginate(MaxResults=60).search("UserPools"):
        if not pool["Name"].startswith(prefix):
            continue
        policy = idp.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]
        policy = policy.get("Policies", {}).get("PasswordPolicy", {})
        pages = idp.get_paginator("list_users").paginate(UserPoolId=pool["Id"])
        found = []
        for user in pages.search("Users"):
            attributes = {a["Name"]: a["Value"] for a in user.get("Attributes", [])}
            # with email as the username attribute, Username is the user's `sub`: sign in by email
            found.append((attributes.get("email") or user["Username"], user))
        for login, user in sorted(found, key=lambda pair: pair[0]):
            password = new_password(policy)
            idp.admin_set_user_password(
                UserPoolId=pool["Id"], Username=user["Username"], Password=password, Permanent=True
            )
            groups = idp.admin_list_groups_for_user(
                UserPoolId=pool["Id"], Username=user["Username"]
            )
            users.append(
                {
                    "pool": pool["Name"],
                    "login": login,
                    "password": password,
                    "groups": sorted(g["GroupName"] for g in groups["Groups"]),
                    "flags": _flags(ddb, tables, login),
                }
            )
    return users


def new_password(policy: dict[str, Any]) -> str:
    """A random password that meets a user pool's password policy."""
    length = max(16, int(policy.get("MinimumLength", 8)))
    # token_urlsafe's letters, digits, '-' and '_', then one of each class a policy may require
    # (a pool's default policy requires all four; '!' only then, as shells treat it specially)
    required = "Aa1" + ("!" if policy.get("RequireSymbols", True) else "")
    return secrets.token_urlsafe(length)[: length - len(required)] + required


def _flags(ddb: Any, tables: list[tuple[str, str]], login: str) -> list[str]:
    """The true/false attributes of the lab's items keyed by this user (`premium`, `not premium`)."""
    from botocore.exceptions import ClientError

    flags = []
    for table, key in tables:
        for value in dict.fromkeys([login.lower(), login]):
            try:
                item = ddb.get_item(TableName=table, Key={key: {"S": value}}).get("Item")
            except ClientError:  # the table's key is not a string
                break
            if item:
                flags += [a if v["BOOL"] else f"not {a}" for a, v in item.items() if "BOOL" in v]
                break
    return flags


def sign_in_lines(users: list[dict[str, Any]]) -> list[str]:
    """What serve prints about the users of the lab's user pools (nothing when there are none)."""
    lines, pool = [], None
    for user in users:
        if user["pool"] != pool:
            pool = user["pool"]
            lines.append(f"Users of the Cognito user pool {pool} (passwords set just now):")
        about = user["flags"] + [f"group {g}" for g in user["groups"]]
        described = f" ({', '.join(about)})" if about else ""
        lines.append(f"  sign in as {user['login']}{described}  password: {user['password']}")
    return lines


def _run(client: Any, source: str) -> str:
    """Run `source` in the lab's kernel and return what it printed."""
    import nbformat

    cell = nbformat.v4.new_code_cell(source)
    client.execute_cell(cell, 0, store_history=False)
    return "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")
