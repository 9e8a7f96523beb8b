"""IAM and resource policies, read as AWS evaluates the simple cases the labs' checks need.

One reading for every lab: statements from a policy as the APIs return it (a JSON string, URL
encoded from IAM, or a dict), IAM's wildcards (`*` and `?` only: brackets are not special), the
identity policies of a role, and whether a statement grants an action on a resource.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote


def as_list(value: Any) -> list[Any]:
    """A policy element as a list: IAM accepts one value or a list (absent: none)."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def document(raw: Any) -> dict[str, Any]:
    """A policy document from what an API returned: a dict, JSON, or URL-encoded JSON (IAM)."""
    if isinstance(raw, dict):
        return raw
    text = str(raw)
    return json.loads(text if text.lstrip().startswith("{") else unquote(text))


def statements(raw: Any) -> list[dict[str, Any]]:
    """The statements of a policy (none when there is no policy)."""
    if not raw:
        return []
    return as_list(document(raw).get("Statement"))


def wildcard(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM's wildcards: `*` any run of characters, `?` any one; nothing else is special."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    flags = re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL
    return re.fullmatch(regex, value, flags) is not None


def grants(statement: dict[str, Any], action: str, resources: str | list[str]) -> bool:
    """The statement's Action covers `action` (case-insensitive) and its Resource one of
    `resources` (a statement without Resource covers none); its Effect is not looked at."""
    actions = as_list(statement.get("Action"))
    named = as_list(statement.get("Resource"))
    return any(wildcard(str(a), action, ignore_case=True) for a in actions) and any(
        wildcard(str(r), arn) for r in named for arn in as_list(resources)
    )


def role_documents(lab: Any, role_arn: str) -> list[dict[str, Any]]:
    """The identity policies of a role, inline and attached (their default versions)."""
    iam = lab.client("iam")
    role = role_arn.rsplit("/", 1)[-1]
    documents = [
        document(iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"])
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]
    ]
    for attached in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
        policy = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
        version = iam.get_policy_version(
            PolicyArn=attached["PolicyArn"], VersionId=policy["DefaultVersionId"]
        )
        documents.append(document(version["PolicyVersion"]["Document"]))
    return documents
