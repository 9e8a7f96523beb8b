"""S3 static website hosting: the website endpoint answers as S3 documents it.

GIVEN a bucket configured with `put_bucket_website` and a public-read policy (after turning Block
Public Access off, as on AWS), WHEN a browser asks `http://{bucket}.s3-website-{region}...`,
THEN it gets index documents, folder redirects, the error document with the error's status, and
S3's HTML error pages (`Code: NoSuchKey`, `Code: AccessDenied`...) otherwise.
"""

from __future__ import annotations

import re

import pytest
import requests

from tests.emulator.s3_support import public_read_policy

BACKENDS = ("moto", "moto-server")


def website_url(bucket: str, path: str = "/", *, dot_form: bool = False) -> str:
    host = f"{bucket}.s3-website.us-east-1" if dot_form else f"{bucket}.s3-website-us-east-1"
    return f"http://{host}.amazonaws.com{path}"


def html_fields(resp: requests.Response) -> dict[str, str]:
    """The `<li>Name: value</li>` lines of S3's HTML error page (first list only)."""
    assert resp.headers["Content-Type"].startswith("text/html")
    first_list = resp.text.split("</ul>", 1)[0]
    return dict(re.findall(r"<li>([^:<]+): ([^<]*)</li>", first_list))


def assert_error_page(resp: requests.Response, status: int, title: str, code: str) -> dict:
    assert resp.status_code == status
    assert f"<head><title>{status} {title}</title></head>" in resp.text
    assert f"<h1>{status} {title}</h1>" in resp.text
    fields = html_fields(resp)
    assert fields["Code"] == code
    assert re.fullmatch(r"[0-9A-F]{16}", fields["RequestId"])
    assert fields["HostId"]
    return fields


@pytest.fixture(scope="module")
def make_site(lab, s3):
    """make_site(base, public=True, listable=True, error_document=None, **website) -> bucket."""

    def make(
        base: str,
        *,
        public: bool = True,
        listable: bool = True,
        error_document: str | None = None,
        **website,
    ) -> str:
        bucket = lab.name(base)
        s3.create_bucket(Bucket=bucket)
        for key, body in [
            ("index.html", b"<h1>Home</h1>"),
            ("docs/index.html", b"<h1>Docs</h1>"),
            ("about.html", b"<h1>About</h1>"),
        ]:
            s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="text/html")
        config = website or {"IndexDocument": {"Suffix": "index.html"}}
        if error_document:
            config["ErrorDocument"] = {"Key": error_document}
        s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration=config)
        if public:
            s3.delete_public_access_block(Bucket=bucket)
            s3.put_bucket_policy(
                Bucket=bucket, Policy=public_read_policy(bucket, listable=listable)
            )
        return bucket

    return make


@pytest.fixture(scope="module")
def site(make_site):
    return make_site("site")


def test_the_root_serves_the_index_document(site):
    resp = requests.get(website_url(site), timeout=10)

    assert resp.status_code == 200
    assert resp.text == "<h1>Home</h1>"
    assert resp.headers["Content-Type"] == "text/html"
    assert resp.headers["ETag"]


def test_both_website_endpoint_forms_answer(site):
    assert requests.get(website_url(site, dot_form=True), timeout=10).text == "<h1>Home</h1>"


def test_a_folder_with_a_slash_serves_its_index_document(site):
    resp = requests.get(website_url(site, "/docs/"), timeout=10)

    assert resp.status_code == 200
    assert resp.text == "<h1>Docs</h1>"


def test_a_folder_without_its_slash_is_redirected_with_302(site):
    resp = requests.get(website_url(site, "/docs"), allow_redirects=False, timeout=10)

    assert resp.status_code == 302
    assert resp.headers["Location"] == "/docs/"


def test_objects_are_served_by_key_and_head_has_no_body(site):
    got = requests.get(website_url(site, "/about.html"), timeout=10)
    head = requests.head(website_url(site, "/about.html"), timeout=10)

    assert got.text == "<h1>About</h1>"
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["Content-Length"] == str(len(b"<h1>About</h1>"))


def test_a_missing_key_is_a_404_no_such_key_page(site):
    resp = requests.get(website_url(site, "/nope.html"), timeout=10)

    fields = assert_error_page(resp, 404, "Not Found", "NoSuchKey")
    assert fields["Message"] == "The specified key does not exist."
    assert fields["Key"] == "nope.html"


def test_without_list_bucket_a_missing_key_is_403(make_site):
    bucket = make_site("get-only", listable=False)

    resp = requests.get(website_url(bucket, "/nope.html"), timeout=10)

    fields = assert_error_page(resp, 403, "Forbidden", "AccessDenied")
    assert fields["Message"] == "Access Denied"


def test_the_error_document_is_served_with_the_errors_status(make_site, s3):
    bucket = make_site("with-error-doc", error_document="error.html")
    s3.put_object(Bucket=bucket, Key="error.html", Body=b"<h1>Oops</h1>", ContentType="text/html")

    resp = requests.get(website_url(bucket, "/missing/page.html"), timeout=10)

    assert resp.status_code == 404
    assert resp.text == "<h1>Oops</h1>"
    assert resp.headers["Content-Type"] == "text/html"


def test_a_missing_error_document_is_reported_on_the_error_page(make_site):
    bucket = make_site("lost-error-doc", error_document="error.html")

    resp = requests.get(website_url(bucket, "/nope"), timeout=10)

    assert_error_page(resp, 404, "Not Found", "NoSuchKey")
    assert (
        "<h3>An Error Occurred While Attempting to Retrieve a Custom Error Document</h3>"
        in resp.text
    )
    second_list = resp.text.split("<h3>", 1)[1]
    assert "<li>Code: NoSuchKey</li>" in second_list


def test_a_bucket_that_is_not_public_answers_403(make_site):
    bucket = make_site("not-public", public=False)  # Block Public Access still on, no policy

    resp = requests.get(website_url(bucket), timeout=10)

    fields = assert_error_page(resp, 403, "Forbidden", "AccessDenied")
    assert fields["Message"] == "Access Denied"


def test_a_bucket_without_a_website_configuration(lab, s3):
    bucket = lab.name("plain")
    s3.create_bucket(Bucket=bucket)

    resp = requests.get(website_url(bucket), timeout=10)

    fields = assert_error_page(resp, 404, "Not Found", "NoSuchWebsiteConfiguration")
    assert fields["Message"] == "The specified bucket does not have a website configuration"
    assert fields["BucketName"] == bucket


def test_an_unknown_bucket(lab):
    bucket = lab.name("no-such-site")

    resp = requests.get(website_url(bucket), timeout=10)

    fields = assert_error_page(resp, 404, "Not Found", "NoSuchBucket")
    assert fields["BucketName"] == bucket


def test_only_get_and_head_are_allowed(site):
    resp = requests.post(website_url(site, "/index.html"), data=b"x", timeout=10)

    fields = assert_error_page(resp, 405, "Method Not Allowed", "MethodNotAllowed")
    assert fields["Method"] == "POST"


def test_redirect_all_requests(make_site):
    bucket = make_site(
        "redirect-all",
        RedirectAllRequestsTo={"HostName": "www.example.com", "Protocol": "https"},
    )

    resp = requests.get(website_url(bucket, "/blog/post?id=3"), allow_redirects=False, timeout=10)

    assert resp.status_code == 301
    assert resp.headers["Location"] == "https://www.example.com/blog/post?id=3"


def test_routing_rules_redirect_by_prefix_and_by_error_code(make_site):
    bucket = make_site(
        "routing",
        IndexDocument={"Suffix": "index.html"},
        RoutingRules=[
            {
                "Condition": {"KeyPrefixEquals": "docs-old/"},
                "Redirect": {"ReplaceKeyPrefixWith": "docs/"},
            },
            {
                "Condition": {"HttpErrorCodeReturnedEquals": "404"},
                "Redirect": {"HostName": "archive.example.com", "HttpRedirectCode": "302"},
            },
        ],
    )

    moved = requests.get(website_url(bucket, "/docs-old/a.html"), allow_redirects=False, timeout=10)
    missing = requests.get(website_url(bucket, "/gone.html"), allow_redirects=False, timeout=10)

    assert moved.status_code == 301
    assert moved.headers["Location"] == "/docs/a.html"
    assert missing.status_code == 302
    assert missing.headers["Location"] == "http://archive.example.com/gone.html"


def test_an_objects_website_redirect_location(site, s3):
    s3.put_object(Bucket=site, Key="old.html", Body=b"", WebsiteRedirectLocation="/about.html")

    resp = requests.get(website_url(site, "/old.html"), allow_redirects=False, timeout=10)

    assert resp.status_code == 301
    assert resp.headers["Location"] == "/about.html"
