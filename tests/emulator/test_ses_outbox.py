"""The SES outbox: every mail a lab sent, as the recipient would read it.

Contract: SES SendEmail (a message may carry both a Text and an Html body: the recipient's
client shows one of them, both are sent), SendTemplatedEmail and SESv2 SendEmail with
`Content.Template` (`{{tag}}` replaced from TemplateData), SendRawEmail (the MIME message as
given), and MessageRejected ("Email address is not verified") for an unverified sender.
https://docs.aws.amazon.com/ses/latest/APIReference/API_SendEmail.html
https://docs.aws.amazon.com/ses/latest/dg/send-personalized-email-api.html
"""

from __future__ import annotations

import json
from email.message import EmailMessage

import pytest
from botocore.exceptions import ClientError

BACKENDS = ("moto", "moto-server")
SENDER = "news@example.com"
READER = "ada@example.com"


@pytest.fixture(scope="module")
def ses(lab):
    ses = lab.client("ses")
    ses.verify_email_identity(EmailAddress=SENDER)
    return ses


def _mail(lab, message_id):
    found = [m for m in lab.outbox() if m["id"] == message_id]
    assert len(found) == 1, lab.outbox()
    return found[0]


def test_send_email_keeps_both_text_and_html(lab, ses):
    """GIVEN a message with Text and Html bodies WHEN sent THEN the outbox has both parts."""
    resp = ses.send_email(
        Source=SENDER,
        Destination={"ToAddresses": [READER], "CcAddresses": ["bob@example.com"]},
        Message={
            "Subject": {"Data": "Both parts"},
            "Body": {"Text": {"Data": "plain words"}, "Html": {"Data": "<p>rich words</p>"}},
        },
    )

    mail = _mail(lab, resp["MessageId"])
    assert mail["source"] == SENDER
    assert mail["subject"] == "Both parts"
    assert mail["text"] == "plain words"
    assert mail["html"] == "<p>rich words</p>"
    assert mail["destinations"]["ToAddresses"] == [READER]
    assert mail["destinations"]["CcAddresses"] == ["bob@example.com"]


def test_send_email_text_only_has_no_html(lab, ses):
    resp = ses.send_email(
        Source=SENDER,
        Destination={"ToAddresses": [READER]},
        Message={"Subject": {"Data": "Text only"}, "Body": {"Text": {"Data": "a <b> is not html"}}},
    )

    mail = _mail(lab, resp["MessageId"])
    assert mail["text"] == "a <b> is not html"
    assert mail["html"] is None


def test_templated_email_is_rendered(lab, ses):
    """GIVEN a template with {{name}} tags WHEN sent with TemplateData THEN the outbox shows
    the rendered subject, text and html."""
    template = lab.name("welcome")
    ses.create_template(
        Template={
            "TemplateName": template,
            "SubjectPart": "Welcome, {{name}}",
            "TextPart": "Hello {{name}}, your plan is {{plan}}.",
            "HtmlPart": "<h1>Hello {{name}}</h1><p>Plan: {{plan}}</p>",
        }
    )

    resp = ses.send_templated_email(
        Source=SENDER,
        Destination={"ToAddresses": [READER]},
        Template=template,
        TemplateData=json.dumps({"name": "Ada", "plan": "premium"}),
    )

    mail = _mail(lab, resp["MessageId"])
    assert mail["subject"] == "Welcome, Ada"
    assert mail["text"] == "Hello Ada, your plan is premium."
    assert mail["html"] == "<h1>Hello Ada</h1><p>Plan: premium</p>"


def test_raw_mime_email_is_parsed(lab, ses):
    """GIVEN a multipart/alternative MIME message WHEN sent raw THEN subject, text and html."""
    message = EmailMessage()
    message["Subject"] = "Raw hello"
    message["From"] = SENDER
    message["To"] = READER
    message.set_content("raw plain\n")
    message.add_alternative("<p>raw html</p>\n", subtype="html")

    resp = ses.send_raw_email(
        Source=SENDER, Destinations=[READER], RawMessage={"Data": message.as_bytes()}
    )

    mail = _mail(lab, resp["MessageId"])
    assert mail["subject"] == "Raw hello"
    assert mail["text"].strip() == "raw plain"
    assert mail["html"].strip() == "<p>raw html</p>"
    assert READER in mail["destinations"]["ToAddresses"]


def test_sesv2_simple_email_keeps_both_parts(lab, ses):
    resp = lab.client("sesv2").send_email(
        FromEmailAddress=SENDER,
        Destination={"ToAddresses": [READER]},
        Content={
            "Simple": {
                "Subject": {"Data": "v2 simple"},
                "Body": {"Text": {"Data": "v2 text"}, "Html": {"Data": "<i>v2 html</i>"}},
            }
        },
    )

    mail = _mail(lab, resp["MessageId"])
    assert (mail["subject"], mail["text"], mail["html"]) == (
        "v2 simple",
        "v2 text",
        "<i>v2 html</i>",
    )


def test_sesv2_templated_email_is_rendered(lab, ses):
    """SES v1 templates and SESv2 email templates are one store: v2 sends a v1 template."""
    template = lab.name("v2-template")
    ses.create_template(
        Template={
            "TemplateName": template,
            "SubjectPart": "Order {{order.id}} shipped",
            "TextPart": "Hi {{name}}, order {{order.id}} is on its way.",
            "HtmlPart": "<p>Hi {{name}}</p>",
        }
    )

    resp = lab.client("sesv2").send_email(
        FromEmailAddress=SENDER,
        Destination={"ToAddresses": [READER]},
        Content={
            "Template": {
                "TemplateName": template,
                "TemplateData": json.dumps({"name": "Ada", "order": {"id": "A-17"}}),
            }
        },
    )

    mail = _mail(lab, resp["MessageId"])
    assert mail["subject"] == "Order A-17 shipped"
    assert mail["text"] == "Hi Ada, order A-17 is on its way."
    assert mail["html"] == "<p>Hi Ada</p>"


def test_sesv2_inline_template_is_rendered(lab, ses):
    resp = lab.client("sesv2").send_email(
        FromEmailAddress=SENDER,
        Destination={"ToAddresses": [READER]},
        Content={
            "Template": {
                "TemplateContent": {
                    "Subject": "Inline {{n}}",
                    "Text": "text {{n}}",
                    "Html": "<p>html {{n}}</p>",
                },
                "TemplateData": json.dumps({"n": 7}),
            }
        },
    )

    mail = _mail(lab, resp["MessageId"])
    assert (mail["subject"], mail["text"], mail["html"]) == ("Inline 7", "text 7", "<p>html 7</p>")


@pytest.mark.parametrize("api", ["ses", "sesv2", "sesv2-template"])
def test_an_unverified_sender_is_rejected(lab, ses, api):
    """MessageRejected, and nothing lands in the outbox."""
    before = len(lab.outbox())
    stranger = "stranger@example.org"

    with pytest.raises(ClientError) as err:
        if api == "ses":
            ses.send_email(
                Source=stranger,
                Destination={"ToAddresses": [READER]},
                Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}},
            )
        elif api == "sesv2":
            lab.client("sesv2").send_email(
                FromEmailAddress=stranger,
                Destination={"ToAddresses": [READER]},
                Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}},
            )
        else:
            lab.client("sesv2").send_email(
                FromEmailAddress=stranger,
                Destination={"ToAddresses": [READER]},
                Content={
                    "Template": {
                        "TemplateContent": {"Subject": "s", "Text": "t"},
                        "TemplateData": "{}",
                    }
                },
            )

    assert err.value.response["Error"]["Code"] == "MessageRejected"
    assert len(lab.outbox()) == before


def test_mail_sent_from_a_lambda_handler_reaches_the_outbox(lab, ses, deploy):
    """The handler's own SES client sends through the lab: the outbox shows its mail."""
    name = deploy(
        "mailer", "mailer.py", handler="mailer.handler", Timeout=15, env={"SENDER": SENDER}
    )
    lambda_ = lab.client("lambda")

    resp = lambda_.invoke(FunctionName=name, Payload=json.dumps({"to": READER, "name": "Ada"}))

    assert "FunctionError" not in resp, resp["Payload"].read()
    mail = _mail(lab, json.loads(resp["Payload"].read())["MessageId"])
    assert mail["subject"] == "Welcome, Ada"
    assert mail["text"] == "Hello Ada, thanks for subscribing."
    assert mail["html"] == "<p>Hello <b>Ada</b>, thanks for subscribing.</p>"
