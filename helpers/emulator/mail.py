"""The SES outbox: every email a lab sent, as the recipient would read it.

moto keeps sent mail but drops the text part when a message has both text and HTML, stores
templated mail unrendered and refuses SESv2 templated sends. The emulator records both parts,
renders templates as SES does (`{{name}}` replaced from the template data), and sends SESv2
templated mail through the same checks as SES v1.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
from typing import Any

_PARTS: dict[str, dict[str, str | None]] = {}  # message id -> {"text": ..., "html": ...}
_TAG = re.compile(r"\{\{\s*([\w.-]+)\s*\}\}")


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

    def send_email_v2(self: Any) -> str:
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


def forget() -> None:
    """Drop the parts kept for the outbox (the lab is torn down; moto forgets its mail too)."""
    _PARTS.clear()


def _remember(sent: list[Any], text: str | None, html: str | None) -> None:
    if sent:
        _PARTS[sent[-1].id] = {"text": text, "html": html}


def _send_template_v2(response: Any, params: dict[str, Any]) -> str:
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
