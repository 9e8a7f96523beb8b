"""S3's HTTP endpoints for browsers and curl: the static website endpoint and the REST endpoint.

- Website endpoint (`http://{bucket}.s3-website-{region}.amazonaws.com/...`): index and error
  documents, `RedirectAllRequestsTo`, routing rules and object redirects from the website
  configuration moto stores; every request is anonymous, so the bucket policy (and Block Public
  Access) decides, and errors are S3's HTML pages.
- REST endpoint (`https://{bucket}.s3.{region}.amazonaws.com/{key}` and path-style
  `https://s3.{region}.amazonaws.com/{bucket}/{key}`): anonymous GET/HEAD are answered here as
  S3 answers them (XML errors); requests carrying a signature (a presigned URL or an
  Authorization header) go to moto's server, after the expiry check moto does not make.

Access decisions come from `s3_access`, which `edge` shares for CloudFront's S3 origins.
"""

from __future__ import annotations

import http.client
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from . import s3_access
from .http import Request, Response

_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
_REASONS = {
    301: "Moved Permanently",
    302: "Found",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
}
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}
_MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # SigV4 presigned URLs: at most one week


# ---- the website configuration ------------------------------------------------------------------
@dataclass
class RoutingRule:
    """One `RoutingRule`: a condition (key prefix and/or error code) and a redirect."""

    key_prefix: str | None = None
    error_code: int | None = None
    protocol: str | None = None
    host: str | None = None
    replace_prefix: str | None = None
    replace_key: str | None = None
    status: int = 301

    def applies(self, key: str, status: int | None) -> bool:
        if self.key_prefix is not None and not key.startswith(self.key_prefix):
            return False
        if self.error_code is not None:
            return status == self.error_code
        return status is None  # a rule without an error condition applies before the lookup

    def target(self, key: str) -> str:
        if self.replace_key is not None:
            return self.replace_key
        if self.replace_prefix is not None and self.key_prefix is not None:
            return self.replace_prefix + key[len(self.key_prefix) :]
        if self.replace_prefix is not None:
            return self.replace_prefix + key
        return key


@dataclass
class WebsiteConfig:
    """What `put_bucket_website` stored, parsed."""

    index_suffix: str | None = None
    error_key: str | None = None
    redirect_all: tuple[str, str | None] | None = None  # (host, protocol)
    rules: list[RoutingRule] = field(default_factory=list)


def _text(node: ET.Element | None, name: str) -> str | None:
    if node is None:
        return None
    child = node.find(_NS + name)
    if child is None:
        child = node.find(name)
    return child.text if child is not None and child.text is not None else None


def _child(node: ET.Element | None, name: str) -> ET.Element | None:
    if node is None:
        return None
    found = node.find(_NS + name)
    return found if found is not None else node.find(name)


def website_config(bucket: Any) -> WebsiteConfig | None:
    """The bucket's website configuration, or None when it has none."""
    raw = bucket.website_configuration
    if not raw:
        return None
    root = ET.fromstring(raw)
    config = WebsiteConfig(
        index_suffix=_text(_child(root, "IndexDocument"), "Suffix"),
        error_key=_text(_child(root, "ErrorDocument"), "Key"),
    )
    redirect_all = _child(root, "RedirectAllRequestsTo")
    if redirect_all is not None:
        config.redirect_all = (
            _text(redirect_all, "HostName") or "",
            _text(redirect_all, "Protocol"),
        )
    rules = _child(root, "RoutingRules")
    for node in list(rules) if rules is not None else []:
        condition, redirect = _child(node, "Condition"), _child(node, "Redirect")
        error_code = _text(condition, "HttpErrorCodeReturnedEquals")
        config.rules.append(
            RoutingRule(
                key_prefix=_text(condition, "KeyPrefixEquals"),
                error_code=int(error_code) if error_code else None,
                protocol=_text(redirect, "Protocol"),
                host=_text(redirect, "HostName"),
                replace_prefix=_text(redirect, "ReplaceKeyPrefixWith"),
                replace_key=_text(redirect, "ReplaceKeyWith"),
                status=int(_text(redirect, "HttpRedirectCode") or 301),
            )
        )
    return config


# ---- the website endpoint's HTML answers --------------------------------------------------------
def html_error(
    status: int,
    code: str,
    message: str,
    *,
    fields: dict[str, str] | None = None,
    document_error: tuple[str, str, dict[str, str]] | None = None,
) -> Response:
    """The website endpoint's HTML error page, shaped as S3 writes it."""
    rid, hid = s3_access.request_id(), s3_access.host_id()
    title = f"{status} {_REASONS[status]}"
    items = [f"<li>Code: {code}</li>", f"<li>Message: {message}</li>"]
    items += [f"<li>{k}: {v}</li>" for k, v in (fields or {}).items()]
    items += [f"<li>RequestId: {rid}</li>", f"<li>HostId: {hid}</li>"]
    lines = ["<html>", f"<head><title>{title}</title></head>", "<body>", f"<h1>{title}</h1>"]
    lines += ["<ul>", *items, "</ul>"]
    if document_error is not None:
        doc_code, doc_message, doc_fields = document_error
        lines += [
            "<h3>An Error Occurred While Attempting to Retrieve a Custom Error Document</h3>",
            "<ul>",
            f"<li>Code: {doc_code}</li>",
            f"<li>Message: {doc_message}</li>",
            *[f"<li>{k}: {v}</li>" for k, v in doc_fields.items()],
            "</ul>",
        ]
    lines += ["<hr/>", "</body>", "</html>", ""]
    headers = [
        ("Content-Type", "text/html; charset=utf-8"),
        ("x-amz-error-code", code),
        ("x-amz-error-message", message),
        *[(f"x-amz-error-detail-{k}", v) for k, v in (fields or {}).items() if k == "Key"],
        *s3_access.s3_headers(rid, hid),
    ]
    return Response(status, headers, "\n".join(lines).encode())


def redirect(status: int, location: str) -> Response:
    """A website redirect (301 or 302, or a routing rule's code) with S3's empty body."""
    rid, hid = s3_access.request_id(), s3_access.host_id()
    return Response(status, [("Location", location), *s3_access.s3_headers(rid, hid)], b"")


# ---- the two endpoints --------------------------------------------------------------------------
class S3Endpoints:
    """The website and REST endpoints of one offline lab."""

    def __init__(self, emulator: Any):
        self.emulator = emulator

    # website ---------------------------------------------------------------------------------
    def website(self, request: Request, parts: dict[str, str]) -> Response:
        """Answer a request to `{bucket}.s3-website-{region}.amazonaws.com`."""
        if request.method not in ("GET", "HEAD"):
            return html_error(
                405,
                "MethodNotAllowed",
                "The specified method is not allowed against this resource.",
                fields={"Method": request.method, "ResourceType": "OBJECT"},
            )
        bucket_name = parts["bucket"]
        bucket = s3_access.find_bucket(bucket_name)
        if bucket is None:
            return html_error(
                404,
                "NoSuchBucket",
                "The specified bucket does not exist",
                fields={"BucketName": bucket_name},
            )
        config = website_config(bucket)
        if config is None:
            return html_error(
                404,
                "NoSuchWebsiteConfiguration",
                "The specified bucket does not have a website configuration",
                fields={"BucketName": bucket_name},
            )
        if config.redirect_all is not None:
            host, protocol = config.redirect_all
            scheme = protocol or urlsplit(request.url).scheme
            query = f"?{request.query}" if request.query else ""
            return redirect(301, f"{scheme}://{host}{request.path}{query}")
        return self._website_object(request, bucket, config)

    def _website_object(self, request: Request, bucket: Any, config: WebsiteConfig) -> Response:
        key = unquote(request.path[1:])
        rule = next((r for r in config.rules if r.applies(key, None)), None)
        if rule is not None:
            return self._follow_rule(request, rule, key)
        wanted = key + (config.index_suffix or "") if key == "" or key.endswith("/") else key
        caller = s3_access.anonymous(request.source_ip, secure=False, now=self.emulator.clock.now())
        result = s3_access.read(bucket.name, wanted, caller)
        if result.status == 200:
            location = result.key.metadata.get("x-amz-website-redirect-location")
            if location:
                return redirect(301, location)
            return s3_access.object_response(result.key, request.method, request.headers)
        if (
            wanted == key
            and key
            and config.index_suffix
            and s3_access.find_key(bucket, key) is None
            and s3_access.find_key(bucket, f"{key}/{config.index_suffix}") is not None
        ):
            # a key without its trailing slash names a folder: S3 answers 302 to `key/`
            return redirect(302, f"/{quote(key)}/")
        rule = next((r for r in config.rules if r.applies(key, result.status)), None)
        if rule is not None:
            return self._follow_rule(request, rule, key)
        return self._error_document(request, bucket, config, result, wanted, caller)

    def _follow_rule(self, request: Request, rule: RoutingRule, key: str) -> Response:
        target = quote(rule.target(key))
        if rule.host is None and rule.protocol is None:
            return redirect(rule.status, f"/{target}")
        scheme = rule.protocol or urlsplit(request.url).scheme
        host = rule.host or request.host
        return redirect(rule.status, f"{scheme}://{host}/{target}")

    def _error_document(
        self,
        request: Request,
        bucket: Any,
        config: WebsiteConfig,
        result: s3_access.Read,
        key: str,
        caller: s3_access.Caller,
    ) -> Response:
        assert result.code is not None
        message = s3_access.ERROR_MESSAGES[result.code]
        fields = {"Key": key} if result.code == "NoSuchKey" else {}
        if not config.error_key:
            return html_error(result.status, result.code, message, fields=fields)
        document = s3_access.read(bucket.name, config.error_key, caller)
        if document.status == 200:
            # the error document is returned with the error's status code
            page = s3_access.object_response(document.key, request.method, {})
            return Response(result.status, page.headers, page.body)
        assert document.code is not None
        doc_fields = {"Key": config.error_key} if document.code == "NoSuchKey" else {}
        return html_error(
            result.status,
            result.code,
            message,
            fields=fields,
            document_error=(document.code, s3_access.ERROR_MESSAGES[document.code], doc_fields),
        )

    # REST ------------------------------------------------------------------------------------
    def rest(self, request: Request, parts: dict[str, str]) -> Response:
        """Answer a request to S3's REST endpoint that did not come through boto3."""
        bucket_name, key_path = self._bucket_and_key(request, parts)
        if _is_signed(request):
            return self.forward_signed(request, bucket_name, key_path)
        method = request.method
        if bucket_name is None:
            return s3_access.xml_error(403, "AccessDenied", "Access Denied", method=method)
        key = unquote(key_path)
        caller = s3_access.anonymous(
            request.source_ip,
            secure=urlsplit(request.url).scheme == "https",
            now=self.emulator.clock.now(),
        )
        if method in ("GET", "HEAD") and key:
            result = s3_access.read(bucket_name, key, caller)
            if result.status != 200:
                return s3_access.read_error(result, bucket_name, key, method)
            return s3_access.object_response(result.key, method, request.headers)
        return self._anonymous_other(request, bucket_name, key_path, caller)

    def _anonymous_other(
        self, request: Request, bucket_name: str, key_path: str, caller: s3_access.Caller
    ) -> Response:
        """Bucket listings and anonymous writes: moto answers them if the policy allows them."""
        bucket = s3_access.find_bucket(bucket_name)
        if bucket is None:
            return s3_access.xml_error(
                404,
                "NoSuchBucket",
                "The specified bucket does not exist",
                extra={"BucketName": bucket_name},
                method=request.method,
            )
        key = unquote(key_path)
        if not key:
            action = "s3:ListBucket" if request.method in ("GET", "HEAD") else None
        else:
            action = {"PUT": "s3:PutObject", "POST": "s3:PutObject", "DELETE": "s3:DeleteObject"}
            action = action.get(request.method)
        allowed = action is not None and s3_access.may(bucket, caller, action, key if key else None)
        if not allowed:
            return s3_access.xml_error(403, "AccessDenied", "Access Denied", method=request.method)
        return self._to_moto(request, bucket_name, key_path)

    @staticmethod
    def _bucket_and_key(request: Request, parts: dict[str, str]) -> tuple[str | None, str]:
        """(bucket, key still percent-encoded) from a virtual-hosted or path-style URL."""
        path = request.path
        if parts.get("bucket"):
            return parts["bucket"], path[1:]
        bucket, _, key = path[1:].partition("/")
        return (bucket or None), key

    def forward_signed(self, request: Request, bucket_name: str | None, key_path: str) -> Response:
        """A presigned or signed request: refuse it when expired, else let moto answer it."""
        clock = self.emulator.clock
        problem = presign_problem(request.query, clock.now(), request.method, clock.lab_time_of)
        if problem is not None:
            return problem
        return self._to_moto(request, bucket_name, key_path)

    def _to_moto(self, request: Request, bucket_name: str | None, key_path: str) -> Response:
        """Send the request to moto's server path-style, as it came (method, headers, body)."""
        target = urlsplit(self.emulator.endpoint_url)
        path = f"/{bucket_name}/{key_path}" if bucket_name else "/"
        if request.query:
            path += f"?{request.query}"
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() not in _HOP_BY_HOP and not k.lower().startswith("x-labbook-")
        }
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
        try:
            conn.request(request.method, path, body=request.body or None, headers=headers)
            answer = conn.getresponse()
            body = answer.read()
            out = [
                (k, v)
                for k, v in answer.getheaders()
                if k.lower() not in ("connection", "transfer-encoding", "keep-alive", "server")
            ]
            return Response(answer.status, [*out, ("Server", "AmazonS3")], body)
        finally:
            conn.close()


def _is_signed(request: Request) -> bool:
    query = parse_qs(request.query, keep_blank_values=True)
    return (
        "X-Amz-Signature" in query
        or "Signature" in query
        or "X-Amz-Credential" in query
        or "Authorization" in request.headers
    )


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class PresignError:
    """Why S3 refuses a presigned URL before looking at anything else."""

    status: int
    code: str
    message: str
    extra: dict[str, str] = field(default_factory=dict)


def presign_error(
    query: str, now: float, lab_time_of: Callable[..., float] = lambda t, **_: t
) -> PresignError | None:
    """S3's refusal of a presigned URL that has expired (lab time) or lives over a week.

    A SigV4 URL's X-Amz-Date comes from the signer's real clock: `lab_time_of` turns it into
    lab time (so a URL signed after the lab clock jumped is not born expired)."""
    params = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
    if "X-Amz-Date" in params and "X-Amz-Expires" in params:
        lifetime = int(params["X-Amz-Expires"])
        if lifetime > _MAX_PRESIGN_SECONDS:
            return PresignError(
                400,
                "AuthorizationQueryParametersError",
                "X-Amz-Expires must be less than a week (in seconds) that is; 604800",
            )
        signed = datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
        expires = (
            lab_time_of(signed.replace(tzinfo=timezone.utc).timestamp(), resolution=1) + lifetime
        )
        if now > expires:
            extra = {"X-Amz-Expires": str(lifetime), "Expires": _iso(expires)}
            return PresignError(403, "AccessDenied", "Request has expired", extra)
    elif "Signature" in params and "Expires" in params:
        # SigV2 carries only the (real-clock) expiry, not when it was signed: it expires by the
        # real clock, whatever the lab skipped
        expires = lab_time_of(int(params["Expires"]))
        if now > expires:
            return PresignError(
                403, "AccessDenied", "Request has expired", {"Expires": _iso(expires)}
            )
    return None


def presign_problem(
    query: str,
    now: float,
    method: str = "GET",
    lab_time_of: Callable[..., float] = lambda t, **_: t,
) -> Response | None:
    """The XML answer S3 gives for a presigned URL it refuses (None: not refused)."""
    error = presign_error(query, now, lab_time_of)
    if error is None:
        return None
    extra = dict(error.extra)
    if error.code == "AccessDenied":
        extra["ServerTime"] = _iso(now)
    return s3_access.xml_error(error.status, error.code, error.message, extra=extra, method=method)


def _refuse_expired_urls_in_moto(emulator: Any) -> None:
    """moto's server accepts expired presigned URLs: refuse them (lab time), as S3 does.

    Offline on moto-server, boto3 presigns URLs to moto's own address, which the front never
    sees; the check has to sit in moto's S3 request handler.
    """
    from moto.s3.exceptions import S3ClientError
    from moto.s3.responses import S3Response

    original = S3Response._key_response

    def _key_response(response: Any, request: Any, full_url: str) -> Any:
        clock = emulator.clock
        error = presign_error(urlsplit(full_url).query, clock.now(), clock.lab_time_of)
        if error is not None:
            raise S3ClientError(error.code, error.message)
        return original(response, request, full_url)

    emulator._patch(S3Response, "_key_response", _key_response)


def install(emulator: Any) -> None:
    """Serve the website and REST endpoints on the front; make moto's S3 defaults AWS's."""
    s3_access.install(emulator)
    _refuse_expired_urls_in_moto(emulator)
    endpoints = S3Endpoints(emulator)
    emulator.s3_endpoints = endpoints
    emulator.front.register("website", endpoints.website)
    emulator.front.register("s3", endpoints.rest)
