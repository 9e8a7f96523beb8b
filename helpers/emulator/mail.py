"""The SES outbox: every email a lab sent, as the recipient would read it; and the SES sandbox.

moto keeps sent mail but drops the text part when a message has both text and HTML, stores
templated mail unrendered and refuses SESv2 templated sends. The emulator records both parts,
renders templates as SES does (`{{name}}` replaced from the template data), and sends SESv2
templated mail through the same checks as SES v1. SESv2's email templates (CreateEmailTemplate
and the rest) share SES v1's template store, as on AWS.

The sandbox: a new account is in the SES sandbox in each region. It may send only from verified
identities (addresses or domains) and only to verified identities or the mailbox simulator
(`success@`, `bounce@`, `complaint@`, `suppressionlist@`, `ooto@simulator.amazonses.com`, with
an optional `+label`); anything else is `MessageRejected`, worded as AWS words it. SESv2
`PutAccountDetails(ProductionAccessEnabled=True)` lifts the recipient rule and `GetAccount`
reports it: on AWS that is a request a person reviews (about a day), offline it is granted at
once. The sandbox's quotas (200 messages a day, 1 a second) are not enforced offline.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
from datetime import datetime, timezone
from email.utils import getaddresses, parseaddr
from typing import Any
from urllib.parse import unquote

_PARTS: dict[str, dict[str, str | None]] = {}  # message id -> {"text": ..., "html": ...}
_TAG = re.compile(r"\{\{\s*([\w.-]+)\s*\}\}")
# (account, region) -> the details sent with PutAccountDetails(ProductionAccessEnabled=True)
_PRODUCTION: dict[tuple[str, str], dict[str, Any]] = {}
SIMULATOR_DOMAIN = "simulator.amazonses.com"
SIMULATOR_MAILBOXES = frozenset({"success", "bounce", "complaint", "suppressionlist", "ooto"})
SANDBOX_QUOTA = {"Max24HourSend": 200.0, "MaxSendRate": 1.0}
PRODUCTION_QUOTA = {"Max24HourSend": 50000.0, "MaxSendRate": 14.0}  # AWS's usual first grant


def install(patch: Any) -> None:
    """Patch moto's SES responses; `patch(owner, name, value)` records what to undo."""
    from moto.ses import responses as v1
    from moto.sesv2 import responses as v2

    original_v1 = v1.EmailResponse.send_email

    def send_email_v1(self: Any) -> Any:
        text = self._get_param("Message.Body.Text.Data")
        html = self._get_param("Message.Body.Html.Data")
        result = original_v1(self)
        _remember(self.backend.sent_messages, text, html)
        return result

    patch(v1.EmailResponse, "send_email", send_email_v1)
    original_v2 = v2.SESV2Response.send_email

    def send_email_v2(self: Any) -> Any:
        params = json.loads(self.body)
        content = params.get("Content") or {}
        if "Template" in content:
            return _send_template_v2(self, params)
        body = (content.get("Simple") or {}).get("Body") or {}
        result = original_v2(self)
        _remember(
            self.sesv2_backend.core_backend.sent_messages,
            (body.get("Text") or {}).get("Data"),
            (body.get("Html") or {}).get("Data"),
        )
        return result

    patch(v2.SESV2Response, "send_email", send_email_v2)
    original_call = v2.SESV2Response.call_action

    def call_action(self: Any) -> Any:
        action = _V2_ACTIONS.get(self._get_action())
        return original_call(self) if action is None else action(self)

    patch(v2.SESV2Response, "call_action", call_action)
    # moto's server routes only the SESv2 paths it lists (its catch-all is not a regex there)
    from moto.sesv2 import urls as v2_urls

    routes = {f"{{0}}/v2/email/{path}$": v2.SESV2Response.dispatch for path in _V2_PATHS}
    patch(v2_urls, "url_paths", {**v2_urls.url_paths, **routes})
    _install_sandbox(patch)


def forget() -> None:
    """Drop the parts kept for the outbox and the production access granted (the lab is torn
    down; moto forgets its mail and identities too)."""
    _PARTS.clear()
    _PRODUCTION.clear()


# ---- the sandbox --------------------------------------------------------------------------------
def _install_sandbox(patch: Any) -> None:
    """Check sender and recipients in every send of SES v1 and v2 (both reach these methods)."""
    from moto.ses.models import SESBackend

    def recipients(destinations: dict[str, list[str]]) -> list[str]:
        return [
            a
            for key in ("ToAddresses", "CcAddresses", "BccAddresses")
            for a in destinations.get(key) or []
        ]

    def checked(name: str, addresses: Any) -> None:
        original = getattr(SESBackend, name)

        def send(backend: Any, source: Any, *args: Any, **kwargs: Any) -> Any:
            sender, to = addresses(source, *args, **kwargs)
            check_identities(backend, sender, to)
            return original(backend, source, *args, **kwargs)

        patch(SESBackend, name, send)

    checked(
        "send_email", lambda source, subject, body, destinations: (source, recipients(destinations))
    )
    checked(
        "send_templated_email",
        lambda source, template, data, destinations: (source, recipients(destinations)),
    )
    checked(
        "send_bulk_templated_email",
        lambda source, template, data, destinations: (
            source,
            [a for d in destinations for a in recipients(d.get("Destination") or {})],
        ),
    )
    checked("send_raw_email", _raw_addresses)


def _raw_addresses(
    source: str | None, destinations: list[str], raw_data: str
) -> tuple[Any, list[str]]:
    """A raw message goes to its Destinations and to the To, Cc and Bcc of its headers."""
    message = email.message_from_string(raw_data)
    headers = [message[h] for h in ("To", "Cc", "Bcc") if message[h]]
    to = list(destinations or []) + [a for _, a in getaddresses(headers) if a]
    return source or message["From"], to


def check_identities(backend: Any, source: str | None, recipients: list[str]) -> None:
    """Raise MessageRejected as SES does for an unverified sender and, in the sandbox, for any
    recipient that is neither verified nor a mailbox simulator address."""
    from moto.ses.exceptions import MessageRejectedError

    failed = []
    if source and not backend._is_verified_address(source):
        failed.append(parseaddr(source)[1] or source)
    if not in_production(backend.account_id, backend.region_name):
        for recipient in recipients:
            address = parseaddr(recipient)[1] or recipient
            if not (_simulator(address) or backend._is_verified_address(address)):
                failed.append(address)
    if failed:
        backend.rejected_messages_count += 1
        raise MessageRejectedError(
            "Email address is not verified. The following identities failed the check in "
            f"region {backend.region_name.upper()}: {', '.join(dict.fromkeys(failed))}"
        )


def in_production(account_id: str, region: str) -> bool:
    """Whether the account has left the SES sandbox in `region`."""
    return (account_id, region) in _PRODUCTION


def _simulator(address: str) -> bool:
    local, _, domain = address.rpartition("@")
    return (
        domain.lower() == SIMULATOR_DOMAIN and local.split("+", 1)[0].lower() in SIMULATOR_MAILBOXES
    )


# ---- SESv2 operations moto lacks: the account, email templates ---------------------------------
def _v2_json(body: dict[str, Any], status: int = 200) -> tuple[int, dict[str, str], str]:
    return status, {"Content-Type": "application/json"}, json.dumps(body)


def _v2_error(code: str, message: str, status: int) -> tuple[int, dict[str, str], str]:
    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": code}
    return status, headers, json.dumps({"message": message})


def _get_account(response: Any) -> tuple[int, dict[str, str], str]:
    backend = response.sesv2_backend.core_backend
    details = _PRODUCTION.get((backend.account_id, backend.region_name))
    quota = PRODUCTION_QUOTA if details is not None else SANDBOX_QUOTA
    body: dict[str, Any] = {
        "DedicatedIpAutoWarmupEnabled": False,
        "EnforcementStatus": "HEALTHY",
        "ProductionAccessEnabled": details is not None,
        "SendQuota": {**quota, "SentLast24Hours": float(backend.sent_message_count)},
        "SendingEnabled": True,
        "SuppressionAttributes": {"SuppressedReasons": []},
    }
    if details:
        body["Details"] = details
    return _v2_json(body)


def _put_account_details(response: Any) -> tuple[int, dict[str, str], str]:
    backend = response.sesv2_backend.core_backend
    params = json.loads(response.body or "{}")
    key = (backend.account_id, backend.region_name)
    if params.get("ProductionAccessEnabled"):
        details = {
            k: params[k]
            for k in (
                "MailType",
                "WebsiteURL",
                "ContactLanguage",
                "UseCaseDescription",
                "AdditionalContactEmailAddresses",
            )
            if k in params
        }
        details["ReviewDetails"] = {"Status": "GRANTED", "CaseId": "labbook-offline"}
        _PRODUCTION[key] = details
    elif params.get("ProductionAccessEnabled") is False:
        _PRODUCTION.pop(key, None)
    return _v2_json({})


def _template_name(response: Any) -> str:
    return unquote(response.path.rstrip("/").rsplit("/", 1)[-1])


def _create_email_template(response: Any) -> tuple[int, dict[str, str], str]:
    backend = response.sesv2_backend.core_backend
    params = json.loads(response.body or "{}")
    name = params.get("TemplateName") or ""
    content = params.get("TemplateContent") or {}
    if name in backend.templates:
        return _v2_error("AlreadyExistsException", f"Template {name} already exists.", 400)
    if not content.get("Subject"):
        return _v2_error("BadRequestException", "The subject must be specified.", 400)
    backend.templates[name] = _v1_template(name, content)
    return _v2_json({})


def _update_email_template(response: Any) -> tuple[int, dict[str, str], str]:
    backend = response.sesv2_backend.core_backend
    name = _template_name(response)
    if name not in backend.templates:
        return _v2_error("NotFoundException", f"Template {name} does not exist.", 404)
    content = json.loads(response.body or "{}").get("TemplateContent") or {}
    backend.templates[name] = _v1_template(name, content)
    return _v2_json({})


def _get_email_template(response: Any) -> tuple[int, dict[str, str], str]:
    backend = response.sesv2_backend.core_backend
    name = _template_name(response)
    template = backend.templates.get(name)
    if template is None:
        return _v2_error("NotFoundException", f"Template {name} does not exist.", 404)
    content = {
        "Subject": _template_part(template, "subject_part"),
        "Text": _template_part(template, "text_part"),
        "Html": _template_part(template, "html_part"),
    }
    return _v2_json(
        {"TemplateName": name, "TemplateContent": {k: v for k, v in content.items() if v}}
    )


def _delete_email_template(response: Any) -> tuple[int, dict[str, str], str]:
    backend = response.sesv2_backend.core_backend
    name = _template_name(response)
    if backend.templates.pop(name, None) is None:
        return _v2_error("NotFoundException", f"Template {name} does not exist.", 404)
    return _v2_json({})


def _list_email_templates(response: Any) -> tuple[int, dict[str, str], str]:
    backend = response.sesv2_backend.core_backend
    listed = [
        {"TemplateName": name, "CreatedTimestamp": _epoch(template.get("Timestamp"))}
        for name, template in backend.templates.items()
    ]
    return _v2_json({"TemplatesMetadata": listed})


def _v1_template(name: str, content: dict[str, str]) -> dict[str, Any]:
    """SESv2 TemplateContent in the form SES v1 keeps templates (one store, as on AWS)."""
    return {
        "template_name": name,
        "subject_part": content.get("Subject") or "",
        "text_part": content.get("Text") or "",
        "html_part": content.get("Html") or "",
        "Timestamp": datetime.now(timezone.utc).replace(tzinfo=None),
    }


def _epoch(value: Any) -> float:
    if isinstance(value, datetime):
        return value.replace(tzinfo=value.tzinfo or timezone.utc).timestamp()
    return 0.0


_V2_PATHS = ("account", "account/details", "templates", "templates/(?P<TemplateName>[^/]+)")
_V2_ACTIONS = {
    "GetAccount": _get_account,
    "PutAccountDetails": _put_account_details,
    "CreateEmailTemplate": _create_email_template,
    "UpdateEmailTemplate": _update_email_template,
    "GetEmailTemplate": _get_email_template,
    "DeleteEmailTemplate": _delete_email_template,
    "ListEmailTemplates": _list_email_templates,
}


def _remember(sent: list[Any], text: str | None, html: str | None) -> None:
    if sent:
        _PARTS[sent[-1].id] = {"text": text, "html": html}


def _send_template_v2(response: Any, params: dict[str, Any]) -> Any:
    """SESv2 templated send: same validation as SES v1, template stored in the v1 backend."""
    backend = response.sesv2_backend.core_backend
    template = params["Content"]["Template"]
    name = template.get("TemplateName")
    data = template.get("TemplateData") or "{}"
    if name is None and "TemplateContent" in template:  # inline template
        content = template["TemplateContent"]
        rendered = {k: render(content.get(k) or "", data) for k in ("Subject", "Text", "Html")}
        message = backend.send_email(
            params.get("FromEmailAddress"),
            rendered["Subject"],
            rendered["Html"] or rendered["Text"],
            params.get("Destination", {}),
        )
        _PARTS[message.id] = {"text": rendered["Text"] or None, "html": rendered["Html"] or None}
    else:
        if name not in backend.templates:  # SESv2's error, not SES v1's TemplateDoesNotExist
            status, headers, body = _v2_error(
                "NotFoundException", f"Template {name} does not exist.", 404
            )
            return body, {**headers, "status": status}
        message = backend.send_templated_email(
            params.get("FromEmailAddress"), name, data, params.get("Destination", {})
        )
    return json.dumps({"MessageId": message.id})


def render(part: str, data: str | dict[str, Any]) -> str:
    """Replace `{{name}}` (and `{{a.b}}`) with values from the template data, as SES does."""
    values = json.loads(data) if isinstance(data, str) else data

    def lookup(match: re.Match[str]) -> str:
        value: Any = values
        for key in match.group(1).split("."):
            value = value.get(key, "") if isinstance(value, dict) else ""
        return str(value)

    return _TAG.sub(lookup, part)


def outbox(account_id: str, region: str) -> list[dict[str, Any]]:
    """Every email sent in `region`, oldest first: source, destinations, subject, text, html."""
    from moto.ses.models import ses_backends

    backend = ses_backends[account_id][region]
    mails = []
    for message in backend.sent_messages:
        kind = type(message).__name__
        entry: dict[str, Any] = {"id": getattr(message, "id", None), "source": message.source}
        if kind == "RawMessage":
            parsed = email.message_from_string(message.raw_data, policy=email.policy.default)
            entry.update(
                destinations={"ToAddresses": list(message.destinations)},
                subject=str(parsed.get("Subject", "")),
                text=_part(parsed, "plain"),
                html=_part(parsed, "html"),
            )
        elif kind == "TemplateMessage":
            template = backend.templates.get(message.template) or {}
            entry.update(
                destinations=message.destinations,
                template=message.template,
                subject=render(_template_part(template, "subject_part"), message.template_data),
                text=render(_template_part(template, "text_part"), message.template_data) or None,
                html=render(_template_part(template, "html_part"), message.template_data) or None,
            )
        else:
            parts = _PARTS.get(message.id)
            if parts is None:  # sent another way: moto kept one body
                looks_html = "<" in (message.body or "") and ">" in (message.body or "")
                parts = {
                    "text": None if looks_html else message.body,
                    "html": message.body if looks_html else None,
                }
            entry.update(destinations=message.destinations, subject=message.subject, **parts)
        mails.append(entry)
    return mails


def _template_part(template: Any, key: str) -> str:
    if isinstance(template, dict):
        return template.get(key) or template.get(key.replace("_part", "Part").title()) or ""
    return getattr(template, key, "") or ""


def _part(message: Any, subtype: str) -> str | None:
    body = message.get_body(preferencelist=(subtype,))
    return body.get_content() if body is not None else None
