"""The SES outbox: every mail a lab sent, as the recipient would read it.

Contract: SES SendEmail (a message may carry both a Text and an Html body: the recipient's
client shows one of them, both are sent), SendTemplatedEmail and SESv2 SendEmail with
`Content.Template` (`{{tag}}` replaced from TemplateData), SendRawEmail (the MIME message as
given), and MessageRejected ("Email address is not verified") for an unverified sender.

The sandbox every new account starts in, per region: mail goes only to verified identities
(addresses or domains) and to the mailbox simulator; any other recipient is MessageRejected,
"Email address is not verified. The following identities failed the check in region
US-EAST-1: <identities>". SESv2 PutAccountDetails with ProductionAccessEnabled lifts that rule
(GetAccount reports ProductionAccessEnabled and the sending quota: 200 a day, 1 a second in
the sandbox); the sender must still be verified. SESv2 email templates share SES v1's store.
https://docs.aws.amazon.com/ses/latest/APIReference/API_SendEmail.html
https://docs.aws.amazon.com/ses/latest/dg/send-personalized-email-api.html
https://docs.aws.amazon.com/ses/latest/dg/request-production-access.html
https://docs.aws.amazon.com/ses/latest/dg/send-an-email-from-console.html (mailbox simulator)
https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_PutAccountDetails.html
"""

from __future__ import annotations

import json
from email.message import EmailMessage

import pytest
from botocore.exceptions import ClientError

BACKENDS = ("moto", "moto-server")
SENDER = "news@example.com"
READER = "ada@example.com"
STRANGER = "stranger@example.org"
REJECTED = (
    "Email address is not verified. The following identities failed the check in region US-EAST-1: "
)


@pytest.fixture(scope="module")
def ses(lab):
    """The sender and, as the sandbox requires, the recipients are verified identities."""
    ses = lab.client("ses")
    for address in (SENDER, READER, "bob@example.com"):
        ses.verify_email_identity(EmailAddress=address)
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
    stranger = STRANGER

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
    assert err.value.response["Error"]["Message"] == REJECTED + stranger
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


def _send(lab, api, to, *, source=SENDER):
    """One message to `to` through one of SES's send operations; returns the message id."""
    ses, v2 = lab.client("ses"), lab.client("sesv2")
    simple = {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}
    if api == "ses":
        return ses.send_email(Source=source, Destination={"ToAddresses": [to]}, Message=simple)[
            "MessageId"
        ]
    if api == "ses-raw":
        message = EmailMessage()
        message["Subject"], message["From"], message["To"] = "raw", source, to
        message.set_content("raw")
        return ses.send_raw_email(RawMessage={"Data": message.as_bytes()})["MessageId"]
    if api == "ses-bulk":
        resp = ses.send_bulk_templated_email(
            Source=source,
            Template=_template(lab),
            DefaultTemplateData=json.dumps({"name": "you"}),
            Destinations=[{"Destination": {"ToAddresses": [to]}}],
        )
        return resp["Status"][0]["MessageId"]
    if api == "sesv2":
        content = {"Simple": simple}
    else:
        content = {"Template": {"TemplateName": _template(lab), "TemplateData": "{}"}}
    return v2.send_email(
        FromEmailAddress=source, Destination={"ToAddresses": [to]}, Content=content
    )["MessageId"]


def _template(lab):
    name = lab.name("sandbox-template")
    v2 = lab.client("sesv2")
    try:
        v2.get_email_template(TemplateName=name)
    except v2.exceptions.NotFoundException:
        v2.create_email_template(
            TemplateName=name, TemplateContent={"Subject": "Hi {{name}}", "Text": "Hello"}
        )
    return name


SEND_APIS = ["ses", "ses-raw", "ses-bulk", "sesv2", "sesv2-template"]


@pytest.mark.parametrize("api", SEND_APIS)
def test_the_sandbox_rejects_an_unverified_recipient(lab, ses, api):
    """GIVEN an account in the sandbox and a verified sender WHEN a message goes to an
    unverified address THEN MessageRejected, in AWS's words, and the outbox is unchanged."""
    before = len(lab.outbox())

    with pytest.raises(ClientError) as err:
        _send(lab, api, STRANGER)

    assert err.value.response["Error"]["Code"] == "MessageRejected"
    assert err.value.response["Error"]["Message"] == REJECTED + STRANGER
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert len(lab.outbox()) == before


def test_the_rejection_names_every_identity_that_failed(lab, ses):
    with pytest.raises(ClientError) as err:
        ses.send_email(
            Source="nobody@example.net",
            Destination={"ToAddresses": [READER, STRANGER], "BccAddresses": ["eve@example.org"]},
            Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}},
        )

    assert err.value.response["Error"]["Message"] == (
        REJECTED + "nobody@example.net, stranger@example.org, eve@example.org"
    )


@pytest.mark.parametrize(
    "to",
    [
        "success@simulator.amazonses.com",
        "bounce@simulator.amazonses.com",
        "complaint@simulator.amazonses.com",
        "suppressionlist@simulator.amazonses.com",
        "ooto@simulator.amazonses.com",
        "success+welcome-42@simulator.amazonses.com",
    ],
)
def test_the_sandbox_accepts_the_mailbox_simulator(lab, ses, to):
    message_id = _send(lab, "sesv2-template", to)

    assert _mail(lab, message_id)["destinations"]["ToAddresses"] == [to]


def test_the_sandbox_does_not_accept_other_simulator_names(lab, ses):
    with pytest.raises(ClientError) as err:
        _send(lab, "ses", "anything@simulator.amazonses.com")

    assert err.value.response["Error"]["Code"] == "MessageRejected"


def test_a_verified_domain_admits_every_address_in_it(lab, ses):
    ses.verify_domain_identity(Domain="readers.example")

    message_id = _send(lab, "ses", "grace@readers.example")

    assert _mail(lab, message_id)["destinations"]["ToAddresses"] == ["grace@readers.example"]


def test_production_access_lifts_the_recipient_rule_only(lab, ses):
    """GIVEN the sandbox (GetAccount: no production access, 200 a day, 1 a second) WHEN
    production access is granted THEN unverified recipients get mail, and an unverified sender
    is still rejected."""
    v2 = lab.client("sesv2")
    account = v2.get_account()
    assert account["ProductionAccessEnabled"] is False
    assert account["SendQuota"]["Max24HourSend"] == 200
    assert account["SendQuota"]["MaxSendRate"] == 1

    v2.put_account_details(
        MailType="TRANSACTIONAL",
        WebsiteURL="https://blog.example.com",
        UseCaseDescription="Welcome emails to readers who subscribed on the blog",
        ProductionAccessEnabled=True,
    )
    try:
        account = v2.get_account()
        assert account["ProductionAccessEnabled"] is True
        assert account["Details"]["MailType"] == "TRANSACTIONAL"
        message_id = _send(lab, "sesv2", STRANGER)
        assert _mail(lab, message_id)["destinations"]["ToAddresses"] == [STRANGER]
        with pytest.raises(ClientError) as err:
            _send(lab, "sesv2", STRANGER, source="nobody@example.net")
        assert err.value.response["Error"]["Message"] == REJECTED + "nobody@example.net"
    finally:  # back to the sandbox for the rest of this module
        v2.put_account_details(
            MailType="TRANSACTIONAL",
            WebsiteURL="https://blog.example.com",
            ProductionAccessEnabled=False,
        )
    assert v2.get_account()["ProductionAccessEnabled"] is False


def test_production_access_is_per_region(lab, ses):
    lab.client("sesv2").put_account_details(
        MailType="MARKETING", WebsiteURL="https://blog.example.com", ProductionAccessEnabled=True
    )
    try:
        assert lab.client("sesv2", "eu-west-1").get_account()["ProductionAccessEnabled"] is False
    finally:
        lab.client("sesv2").put_account_details(
            MailType="MARKETING",
            WebsiteURL="https://blog.example.com",
            ProductionAccessEnabled=False,
        )


def test_sesv2_email_templates_share_the_v1_store(lab, ses):
    """CreateEmailTemplate, Get, Update, List and Delete; AlreadyExists and NotFound as SESv2
    names them; a template created with SESv2 is the one SES v1 sees."""
    v2 = lab.client("sesv2")
    name = lab.name("crud-template")
    content = {"Subject": "Welcome, {{name}}", "Text": "Hi {{name}}", "Html": "<p>Hi {{name}}</p>"}

    v2.create_email_template(TemplateName=name, TemplateContent=content)

    assert v2.get_email_template(TemplateName=name)["TemplateContent"] == content
    assert ses.get_template(TemplateName=name)["Template"]["SubjectPart"] == "Welcome, {{name}}"
    assert name in [t["TemplateName"] for t in v2.list_email_templates()["TemplatesMetadata"]]
    with pytest.raises(v2.exceptions.AlreadyExistsException):
        v2.create_email_template(TemplateName=name, TemplateContent=content)
    v2.update_email_template(TemplateName=name, TemplateContent={**content, "Subject": "Hello"})
    assert v2.get_email_template(TemplateName=name)["TemplateContent"]["Subject"] == "Hello"
    v2.delete_email_template(TemplateName=name)
    with pytest.raises(v2.exceptions.NotFoundException):
        v2.get_email_template(TemplateName=name)


def test_sesv2_send_with_a_missing_template_is_not_found(lab, ses):
    v2 = lab.client("sesv2")

    with pytest.raises(v2.exceptions.NotFoundException):
        v2.send_email(
            FromEmailAddress=SENDER,
            Destination={"ToAddresses": [READER]},
            Content={"Template": {"TemplateName": lab.name("no-such"), "TemplateData": "{}"}},
        )
