"""CloudFront's edge for an offline lab: what `https://{id}.cloudfront.net/...` answers.

moto stores distributions; this module serves them. A viewer request is matched to the
distribution by its domain, then to a cache behaviour (`PathPattern`, first match in order, else
the default); the behaviour's allowed methods, viewer protocol policy and trusted key groups are
checked; GET/HEAD (and OPTIONS when cached) are answered from a per-distribution cache whose TTLs
follow CloudFront's rules for the legacy `MinTTL`/`DefaultTTL`/`MaxTTL` settings; simultaneous
misses for one object are collapsed into one origin request; misses go to the origin: an S3 REST origin (as the CloudFront service principal when the origin has Origin Access
Control, else anonymously, decided by `s3_access`) or a custom origin the emulator's front serves
(an S3 website endpoint, an API Gateway stage). Custom error responses, invalidations (which
complete at once), the `X-Cache`/`Age`/`Via`/`X-Amz-Cf-*` headers and CloudFront's CloudWatch
metrics (`AWS/CloudFront`, in us-east-1) follow AWS's documented behaviour.

`Edge.signed_request_check` is the seam for trusted key groups (signed URLs and cookies): `install`
sets it to `signed_urls`' check, which verifies the signature and policy; a behaviour that trusts
key groups then serves only signed requests, and the signing parameters stay out of the cache key
and the origin request.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from requests.structures import CaseInsensitiveDict

from . import s3_access
from .http import ConnectionFailed, Request, Response, classify, not_found_host

POP = "IAD89-C1"  # the edge location every offline request is served from (Ashburn, us-east-1)
CLOUDFRONT_IP = "130.176.0.1"  # an address from CloudFront's origin-facing ranges
# "HTTP 4xx and 5xx status codes that CloudFront caches" (416 is listed, but the error-caching
# page says CloudFront does not cache it):
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/HTTPStatusCodes.html
CACHED_ERRORS = {400, 403, 404, 405, 414, 500, 501, 502, 503, 504}
# for these, an origin's no-store/no-cache/private keeps the error out of the cache; for the
# others CloudFront ignores those directives ("Control how long CloudFront caches errors",
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/custom-error-pages-expiration.html)
ERRORS_HONOURING_NO_STORE = {404, 410, 414, 501}
DEFAULT_ERROR_CACHING_MIN_TTL = 10
# AWS's managed cache policies by their documented ids: (MinTTL, DefaultTTL, MaxTTL)
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # "this policy disables caching"
MANAGED_CACHE_POLICIES = {
    "658327ea-f89d-4fab-a63d-7e88639e58f6": (1, 86400, 31536000),  # CachingOptimized
    CACHING_DISABLED: (0, 0, 0),
}
# headers CloudFront forwards to a custom origin without being told to
# ("HTTP request headers and CloudFront behavior", custom origins)
FORWARDED_BY_DEFAULT = {"content-type", "content-md5", "expect", "if-match", "if-unmodified-since"}
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection"}
BAD_REQUEST = "Bad request."
UNREACHABLE = "CloudFront wasn't able to connect to the origin."
METHOD_NOT_ALLOWED = (
    "This distribution is not configured to allow the HTTP request method that was used for this "
    "request. The distribution supports only cachable requests."
)


class OriginUnreachable(Exception):
    """The edge cannot connect to the origin (CloudFront answers 502)."""


# ---- CloudFront's own answers -------------------------------------------------------------------
def new_request_id() -> str:
    """An X-Amz-Cf-Id: 56 URL-safe base64 characters ending in '=='."""
    return base64.urlsafe_b64encode(os.urandom(40)).decode()


def error_page(status: int, message: str, request_id: str) -> Response:
    """CloudFront's HTML error page ("The request could not be satisfied")."""
    body = "\n".join(
        [
            '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN" '
            '"http://www.w3.org/TR/html4/loose.dtd">',
            '<HTML><HEAD><META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=iso-8859-1">',
            "<TITLE>ERROR: The request could not be satisfied</TITLE>",
            "</HEAD><BODY>",
            f"<H1>{status} ERROR</H1>",
            "<H2>The request could not be satisfied.</H2>",
            '<HR noshade size="1px">',
            message,
            "We can't connect to the server for this app or website at this time. There might be "
            "too much traffic or a configuration error. Try again later, or contact the app or "
            "website owner.",
            '<BR clear="all">',
            "If you provide content to customers through CloudFront, you can find steps to "
            "troubleshoot and help prevent this error by reviewing the CloudFront documentation.",
            '<BR clear="all">',
            '<HR noshade size="1px">',
            "<PRE>",
            "Generated by cloudfront (CloudFront)",
            f"Request ID: {request_id}",
            "</PRE>",
            "<ADDRESS>",
            "</ADDRESS>",
            "</BODY></HTML>",
        ]
    )
    return Response(
        status, [("Server", "CloudFront"), ("Content-Type", "text/html")], body.encode()
    )


def xml_refusal(code: str, message: str) -> Response:
    """CloudFront's 403 for signed URLs and cookies (`text/xml`)."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    )
    return Response(403, [("Server", "CloudFront"), ("Content-Type", "text/xml")], body.encode())


def moved_to_https(location: str) -> Response:
    """CloudFront's 301 for `redirect-to-https`."""
    body = (
        "<html>\r\n<head><title>301 Moved Permanently</title></head>\r\n<body>\r\n"
        "<center><h1>301 Moved Permanently</h1></center>\r\n<hr><center>CloudFront</center>\r\n"
        "</body>\r\n</html>\r\n"
    )
    headers = [("Server", "CloudFront"), ("Content-Type", "text/html"), ("Location", location)]
    return Response(301, headers, body.encode())


# ---- the seam for signed URLs and cookies -------------------------------------------------------
SignedRequestCheck = Callable[[Any, Any, Request], "Response | None"]


def trusts_signers(behaviour: Any) -> bool:
    """True when the behaviour restricts viewers with trusted key groups (or legacy signers)."""
    return bool(behaviour.trusted_key_groups.enabled or behaviour.trusted_signers.enabled)


def refuse_signed_requests(distribution: Any, behaviour: Any, request: Request) -> Response | None:
    """A bare Edge's default (`install` sets `signed_urls`' check): refuse every request to a
    behaviour with trusted signers.

    Without `Key-Pair-Id` (query or `CloudFront-Key-Pair-Id` cookie) CloudFront answers
    MissingKey; a request that carries one cannot be verified yet and is denied.
    """
    if not trusts_signers(behaviour):
        return None
    query = dict(parse_qsl(request.query, keep_blank_values=True))
    cookies = _cookies(request.headers)
    if "Key-Pair-Id" not in query and "CloudFront-Key-Pair-Id" not in cookies:
        return xml_refusal("MissingKey", "Missing Key-Pair-Id query parameter or cookie value")
    return xml_refusal("AccessDenied", "Access denied")


# ---- distributions, behaviours and TTLs as moto stores them -------------------------------------
def behaviours(config: Any) -> list[Any]:
    """The distribution's ordered cache behaviours, the default last."""
    ordered = list(config.CacheBehaviors.get("Items") or []) if config.CacheBehaviors else []
    return [*ordered, config.DefaultCacheBehavior]


def path_matches(pattern: str, path: str) -> bool:
    """CloudFront path patterns: `*` any characters, `?` one; case-sensitive; leading '/'
    optional."""
    return bool(s3_access.wildcard(pattern.lstrip("/")).match(path.lstrip("/")))


def select_behaviour(config: Any, path: str) -> Any:
    """The first behaviour whose PathPattern matches the path, else the default behaviour."""
    for behaviour in behaviours(config)[:-1]:
        if path_matches(behaviour.path_pattern, path):
            return behaviour
    return config.DefaultCacheBehavior


@dataclass(frozen=True)
class Ttls:
    minimum: float
    default: float
    maximum: float


def ttls(behaviour: Any) -> Ttls:
    """The behaviour's TTLs: a managed cache policy's, else the legacy fields."""
    managed = MANAGED_CACHE_POLICIES.get(behaviour.cache_policy_id or "")
    if managed is not None:
        return Ttls(*managed)
    return Ttls(behaviour.min_ttl, behaviour.default_ttl, behaviour.max_ttl)


def _directives(headers: Any) -> dict[str, str | None]:
    value = headers.get("Cache-Control") or ""
    out: dict[str, str | None] = {}
    for part in value.split(","):
        name, _, arg = part.strip().partition("=")
        if name:
            out[name.lower()] = arg.strip().strip('"') or None
    return out


def _seconds(value: str | None) -> float | None:
    try:
        return float(int(value)) if value is not None else None
    except ValueError:
        return None


def origin_lifetime(headers: Any, now: float) -> float | None:
    """What the origin asks for: s-maxage, else max-age, else Expires (seconds); None if none."""
    directives = _directives(headers)
    for name in ("s-maxage", "max-age"):
        if name in directives:
            seconds = _seconds(directives[name])
            if seconds is not None:
                return max(seconds, 0.0)
    expires = headers.get("Expires")
    if expires:
        try:
            return max(parsedate_to_datetime(expires).timestamp() - now, 0.0)
        except (TypeError, ValueError):
            return 0.0  # an invalid Expires date means "already expired"
    return None


def cache_ttl(headers: Any, limits: Ttls, now: float) -> float | None:
    """How long CloudFront keeps a successful response, or None when it does not cache it.

    "Manage how long content stays in the cache (expiration)":
    https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/Expiration.html
    no-cache/no-store/private: not cached with MinTTL 0, else kept for MinTTL; s-maxage/max-age/
    Expires clamped to [MinTTL, MaxTTL]; no header: DefaultTTL.
    """
    directives = _directives(headers)
    if {"no-cache", "no-store", "private"} & directives.keys():
        return limits.minimum if limits.minimum > 0 else None
    asked = origin_lifetime(headers, now)
    if asked is None:
        return limits.default
    return min(max(asked, limits.minimum), limits.maximum)


def error_ttl(status: int, headers: Any, error_min_ttl: float, limits: Ttls, now: float) -> float:
    """How long CloudFront keeps an origin error: the greater of the origin's header (at most
    MaxTTL) and the Error Caching Minimum TTL; 0 when it is not kept."""
    if status not in CACHED_ERRORS:
        return 0.0
    directives = _directives(headers)
    if (
        status in ERRORS_HONOURING_NO_STORE
        and {"no-cache", "no-store", "private"} & directives.keys()
    ):
        return 0.0
    asked = origin_lifetime(headers, now)
    if asked is None:
        return error_min_ttl
    return max(min(asked, limits.maximum), error_min_ttl)


def _cookies(headers: Any) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(headers.get("Cookie") or "")
    except Exception:  # a malformed Cookie header: CloudFront sees no usable cookies
        return {}
    return {name: morsel.value for name, morsel in jar.items()}


def _items(container: Any) -> list[str]:
    if not container:
        return []
    return [str(i) for i in (container.get("Items") or [])]


def forwarded(behaviour: Any) -> dict[str, Any]:
    """The behaviour's legacy ForwardedValues (query strings, headers, cookies)."""
    if (behaviour.cache_policy_id or "") in MANAGED_CACHE_POLICIES:
        return {"QueryString": False, "Cookies": {"Forward": "none"}}
    return dict(vars(behaviour.forwarded_values))


def forwarded_query(behaviour: Any, query: str) -> list[tuple[str, str]]:
    """The query parameters CloudFront sends to the origin (all, or none)."""
    if not forwarded(behaviour).get("QueryString"):
        return []
    return parse_qsl(query, keep_blank_values=True)


def forwarded_headers(behaviour: Any) -> list[str]:
    """Header names (lower case) the behaviour forwards to the origin; ['*'] for all."""
    return [h.lower() for h in _items(forwarded(behaviour).get("Headers"))]


def forwarded_cookies(behaviour: Any, headers: Any) -> dict[str, str]:
    """The viewer's cookies the behaviour forwards: none, all, or the whitelisted names."""
    setting = forwarded(behaviour).get("Cookies") or {}
    mode = setting.get("Forward", "none")
    cookies = _cookies(headers)
    if mode == "all":
        return cookies
    if mode == "whitelist":
        names = _items(setting.get("WhitelistedNames"))
        return {k: v for k, v in cookies.items() if s3_access.matches_any(names, k)}
    return {}


def strips_set_cookie(behaviour: Any) -> bool:
    """A legacy behaviour that forwards no cookies also drops the origin's `Set-Cookie` headers
    on the way to the viewer ("Cache content based on cookies": CloudFront "removes the
    Set-Cookie header from responses that it returns to your viewers")."""
    if behaviour.cache_policy_id:
        return False
    setting = dict(vars(behaviour.forwarded_values)).get("Cookies") or {}
    return setting.get("Forward", "none") == "none"


def cache_key(behaviour: Any, request: Request, path: str) -> str:
    """The cache key: method class, path, and the query strings, headers and cookies the
    behaviour's ForwardedValues put in it (query order matters, as on CloudFront)."""
    group = "OPTIONS" if request.method == "OPTIONS" else "GET"
    parts = [group, path]
    values = forwarded(behaviour)
    params = forwarded_query(behaviour, request.query)
    keys = _items(values.get("QueryStringCacheKeys"))
    if keys:
        params = [(k, v) for k, v in params if k in keys]
    parts.append(urlencode(params))
    for name in sorted(forwarded_headers(behaviour)):
        parts.append(f"{name}={request.headers.get(name, '')}")
    parts.append(urlencode(sorted(forwarded_cookies(behaviour, request.headers).items())))
    return "\n".join(parts)


# ---- what the edge keeps ------------------------------------------------------------------------
@dataclass
class Entry:
    """One cached response."""

    path: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    stored_at: float
    expires_at: float
    error: bool = False

    def header(self, name: str) -> str | None:
        return Response(self.status, self.headers).header(name)


@dataclass
class EdgeStats:
    """What one distribution's edge did: the counters a test or a notebook plot reads."""

    requests: int = 0
    hits: int = 0
    refresh_hits: int = 0
    misses: int = 0
    errors: int = 0
    redirects: int = 0
    origin_requests: int = 0
    bytes_downloaded: int = 0
    origin_bytes: int = 0

    @property
    def cache_hit_rate(self) -> float:
        """Hits (and refresh hits) per cacheable, non-error request, in percent."""
        served = self.hits + self.refresh_hits + self.misses
        return 100.0 * (self.hits + self.refresh_hits) / served if served else 0.0


@dataclass
class Outcome:
    """A response and how the edge produced it (the X-Cache word)."""

    response: Response
    result: str  # Hit | RefreshHit | Miss | Error | Redirect
    age: float | None = None
    cacheable: bool = False


@dataclass
class _Flight:
    """One cache key's origin fetches while viewers wait for them (request collapsing)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    viewers: int = 0  # asking for the key now
    fetches: int = 0  # origin fetches finished
    outcome: Outcome | None = None  # the last one's answer


def _collapsed(result: str) -> str:
    """What a viewer served another viewer's fetch is logged as: a hit, unless it was an error."""
    return "Error" if result == "Error" else "Hit"


# ---- the edge -----------------------------------------------------------------------------------
class Edge:
    """Every distribution's edge cache and counters in one offline lab."""

    def __init__(self, emulator: Any):
        self.emulator = emulator
        self.signed_request_check: SignedRequestCheck = refuse_signed_requests
        self._caches: dict[str, dict[str, Entry]] = {}
        self._stats: dict[str, EdgeStats] = {}
        self._fetching: dict[tuple[str, str], _Flight] = {}  # per cache key, see _fetch
        self._lock = threading.RLock()
        self.metrics = Metrics(emulator)

    # public ----------------------------------------------------------------------------------
    def stats(self, distribution_id: str) -> EdgeStats:
        """A copy of the distribution's counters."""
        with self._lock:
            return replace(self._stats.get(distribution_id) or EdgeStats())

    def cached_paths(self, distribution_id: str) -> list[str]:
        """The paths the distribution's cache holds now (fresh or expired)."""
        with self._lock:
            return sorted({e.path for e in self._caches.get(distribution_id, {}).values()})

    def purge(self, distribution_id: str, paths: list[str]) -> int:
        """Drop cached objects whose path equals a path, or starts with a path ending in '*'."""
        wanted = [unquote(p if p.startswith("/") else f"/{p}") for p in paths]
        with self._lock:
            cache = self._caches.get(distribution_id, {})
            doomed = [k for k, e in cache.items() if _invalidated(unquote(e.path), wanted)]
            for key in doomed:
                del cache[key]
        return len(doomed)

    def distribution(self, domain: str) -> Any | None:
        """The lab's distribution whose DomainName is `domain`."""
        from moto.cloudfront.models import cloudfront_backends

        backend = cloudfront_backends[self.emulator.account_id]["aws"]
        for dist in list(backend.distributions.values()):
            if dist.domain_name.lower() == domain.lower():
                return dist
        return None

    # the viewer request ----------------------------------------------------------------------
    def handle(self, request: Request, parts: dict[str, str]) -> Response:
        """Answer one viewer request to `{id}.cloudfront.net`."""
        dist = self.distribution(parts["domain"])
        if dist is None:
            return not_found_host(request.host)
        request_id = new_request_id()
        outcome = self._serve(dist, request, request_id)
        response = self._finish(dist, request, outcome, request_id)
        self._record(dist, request, outcome, response)
        return response

    def _serve(self, dist: Any, request: Request, request_id: str) -> Outcome:
        config = dist.distribution_config
        if not config.Enabled:
            return Outcome(error_page(403, BAD_REQUEST, request_id), "Error")
        path = request.path
        if path == "/" and config.DefaultRootObject:
            path = "/" + config.DefaultRootObject.lstrip("/")
        behaviour = select_behaviour(config, path)
        if request.method == "GET" and request.body:
            # CloudFront refuses a GET that carries a body with its generic 403
            return Outcome(error_page(403, BAD_REQUEST, request_id), "Error")
        if request.method not in behaviour.allowed_methods.items:
            return Outcome(error_page(403, METHOD_NOT_ALLOWED, request_id), "Error")
        refusal = self._viewer_protocol(behaviour, request, request_id)
        if refusal is not None:
            return refusal
        denied = self.signed_request_check(dist, behaviour, request)
        if denied is not None:
            return Outcome(denied, "Error")
        if trusts_signers(behaviour):
            # the signing parameters are CloudFront's: not in the cache key, not sent to the origin
            from .signed_urls import without_signing_params

            request = without_signing_params(request)
        outcome = self._fetch(dist, behaviour, request, path, request_id)
        if outcome.response.status >= 400:
            return self._custom_error(dist, request, outcome, request_id)
        return outcome

    def _viewer_protocol(self, behaviour: Any, request: Request, request_id: str) -> Outcome | None:
        if urlsplit(request.url).scheme != "http":
            return None
        policy = behaviour.viewer_protocol_policy
        if policy == "redirect-to-https":
            location = "https://" + request.url.split("://", 1)[1]
            return Outcome(moved_to_https(location), "Redirect")
        if policy == "https-only":
            return Outcome(error_page(403, BAD_REQUEST, request_id), "Error")
        return None

    def _custom_error(
        self, dist: Any, request: Request, outcome: Outcome, request_id: str
    ) -> Outcome:
        """A CustomErrorResponse with a page: serve the page (through the cache) instead."""
        rule = custom_error_rule(dist.distribution_config, outcome.response.status)
        if rule is None or not rule.get("ResponsePagePath"):
            return replace(outcome, result="Error")
        page_path = rule["ResponsePagePath"]
        page_request = Request(
            "GET",
            _with_path(request.url, page_path),
            CaseInsensitiveDict(
                {k: v for k, v in request.headers.items() if not k.lower().startswith("if-")}
            ),
            b"",
            request.source_ip,
        )
        behaviour = select_behaviour(dist.distribution_config, page_path)
        page = self._fetch(dist, behaviour, page_request, page_path, request_id).response
        if page.status >= 400:
            return Outcome(page, "Error")
        status = int(rule.get("ResponseCode") or outcome.response.status)
        return Outcome(Response(status, page.headers, page.body), "Error")

    # the cache -------------------------------------------------------------------------------
    def _fetch(
        self, dist: Any, behaviour: Any, request: Request, path: str, request_id: str
    ) -> Outcome:
        """The response for a viewer request: from the cache when fresh, else from the origin
        (an origin the edge cannot reach is CloudFront's 502, never cached)."""
        try:
            return self._fetch_or_fail(dist, behaviour, request, path)
        except OriginUnreachable as exc:
            return Outcome(error_page(502, str(exc), request_id), "Error")

    def _fetch_or_fail(self, dist: Any, behaviour: Any, request: Request, path: str) -> Outcome:
        if not self._cacheable(behaviour, request.method):
            response = self._origin(dist, behaviour, request, path, request.method)
            return Outcome(response, "Miss" if response.status < 400 else "Error")
        # the edge caches by the path the viewer asked for: `/` and `/index.html` are two
        # entries even when the default root object maps `/` to index.html on the way to the
        # origin (invalidate both; AWS: "What you need to know when invalidating files")
        viewer_path = request.path
        key = cache_key(behaviour, request, viewer_path)
        fresh = self._fresh(dist, key)
        if fresh is not None:
            return fresh
        # request collapsing: viewers asking for the same object while it is being fetched wait
        # for that one origin request; CloudFront "sends the response from the original request
        # to all the requests that it received while it was paused", and logs them as hits
        # ("Simultaneous requests for the same object (request collapsing)")
        with self._lock:
            flight = self._fetching.setdefault((dist.id, key), _Flight())
            flight.viewers += 1
            arrived_after = flight.fetches
        try:
            with flight.lock:
                fresh = self._fresh(dist, key)
                if fresh is not None:
                    return fresh
                shared = flight.outcome
                if flight.fetches > arrived_after and shared is not None:  # fetched meanwhile
                    answer = shared.response
                    copy = Response(answer.status, list(answer.headers), answer.body)
                    return replace(shared, response=copy, result=_collapsed(shared.result))
                outcome = self._miss(dist, behaviour, request, path, key, viewer_path)
                flight.outcome, flight.fetches = outcome, flight.fetches + 1
                return outcome
        finally:
            with self._lock:
                flight.viewers -= 1
                if flight.viewers == 0:
                    self._fetching.pop((dist.id, key), None)

    def _fresh(self, dist: Any, key: str) -> Outcome | None:
        """The cached answer for `key` while it is fresh (a hit, or a cached error)."""
        now = self.emulator.clock.now()
        with self._lock:
            entry = self._caches.setdefault(dist.id, {}).get(key)
        if entry is None or now >= entry.expires_at:
            return None
        return Outcome(
            Response(entry.status, list(entry.headers), entry.body),
            "Error" if entry.error else "Hit",
            age=now - entry.stored_at,
            cacheable=not entry.error,
        )

    def _miss(
        self, dist: Any, behaviour: Any, request: Request, path: str, key: str, viewer_path: str
    ) -> Outcome:
        """Not in the cache, or expired: revalidate what there is, else fetch and keep."""
        with self._lock:
            entry = self._caches.setdefault(dist.id, {}).get(key)
        if entry is not None and not entry.error:
            refreshed = self._revalidate(dist, behaviour, request, path, key, entry, viewer_path)
            if refreshed is not None:
                return refreshed
        response = self._origin(dist, behaviour, request, path, _fetch_method(request))
        self._store(dist, behaviour, key, viewer_path, response)
        if response.status >= 400:
            return Outcome(response, "Error")
        return Outcome(response, "Miss", cacheable=True)

    def _cacheable(self, behaviour: Any, method: str) -> bool:
        if "*" in forwarded_headers(behaviour) or behaviour.cache_policy_id == CACHING_DISABLED:
            return False  # forwarding every header, or the CachingDisabled policy
        if method in ("GET", "HEAD"):
            return True
        cached = behaviour.allowed_methods.cached_methods.get("Items") or []
        return method == "OPTIONS" and "OPTIONS" in cached

    def _revalidate(
        self,
        dist: Any,
        behaviour: Any,
        request: Request,
        path: str,
        key: str,
        entry: Entry,
        viewer_path: str,
    ) -> Outcome | None:
        """An expired object with a validator: ask the origin whether it changed (304)."""
        conditions = {}
        if entry.header("ETag"):
            conditions["If-None-Match"] = entry.header("ETag") or ""
        elif entry.header("Last-Modified"):
            conditions["If-Modified-Since"] = entry.header("Last-Modified") or ""
        if not conditions:
            return None
        response = self._origin(dist, behaviour, request, path, _fetch_method(request), conditions)
        if response.status != 304:
            self._store(dist, behaviour, key, viewer_path, response)
            if response.status >= 400:
                return Outcome(response, "Error")
            return Outcome(response, "Miss", cacheable=True)
        merged = _merge_headers(entry.headers, response.headers)
        now = self.emulator.clock.now()
        ttl = cache_ttl(CaseInsensitiveDict(merged), ttls(behaviour), now)
        with self._lock:
            cache = self._caches.setdefault(dist.id, {})
            if ttl is None:
                cache.pop(key, None)
            else:
                cache[key] = replace(entry, headers=merged, stored_at=now, expires_at=now + ttl)
        return Outcome(Response(entry.status, merged, entry.body), "RefreshHit", cacheable=True)

    def _store(self, dist: Any, behaviour: Any, key: str, path: str, response: Response) -> None:
        """Keep the response as long as CloudFront's rules say (or not at all)."""
        now = self.emulator.clock.now()
        headers = CaseInsensitiveDict(response.headers)
        limits = ttls(behaviour)
        if response.status >= 400:
            rule = custom_error_rule(dist.distribution_config, response.status) or {}
            minimum = rule.get("ErrorCachingMinTTL")
            minimum = DEFAULT_ERROR_CACHING_MIN_TTL if minimum is None else float(minimum)
            ttl: float | None = error_ttl(response.status, headers, minimum, limits, now) or None
        elif response.status == 304:
            ttl = None
        else:
            ttl = cache_ttl(headers, limits, now)
            if ttl == 0 and not (headers.get("ETag") or headers.get("Last-Modified")):
                ttl = None  # nothing to revalidate with: nothing worth keeping
        with self._lock:
            cache = self._caches.setdefault(dist.id, {})
            if ttl is None:
                cache.pop(key, None)
                return
            cache[key] = Entry(
                path,
                response.status,
                list(response.headers),
                response.body,
                now,
                now + ttl,
                error=response.status >= 400,
            )

    # origins ---------------------------------------------------------------------------------
    def _origin(
        self,
        dist: Any,
        behaviour: Any,
        request: Request,
        path: str,
        method: str,
        conditions: dict[str, str] | None = None,
    ) -> Response:
        """Ask the behaviour's origin; count the request and the bytes it returned."""
        origin = find_origin(dist.distribution_config, behaviour.target_origin_id)
        with self._lock:
            stats = self._stats.setdefault(dist.id, EdgeStats())
            stats.origin_requests += 1
        if origin is None:
            raise OriginUnreachable(
                f"{UNREACHABLE} (labbook emulator: the behaviour targets origin "
                f"{behaviour.target_origin_id!r}, which the distribution does not have.)"
            )
        response = self._ask_origin(dist, behaviour, origin, request, path, method, conditions)
        with self._lock:
            stats.origin_bytes += len(response.body)
        if strips_set_cookie(behaviour):
            response.headers = [(k, v) for k, v in response.headers if k.lower() != "set-cookie"]
        return response

    def _ask_origin(
        self,
        dist: Any,
        behaviour: Any,
        origin: Any,
        request: Request,
        path: str,
        method: str,
        conditions: dict[str, str] | None,
    ) -> Response:
        origin_path = (origin.origin_path or "").rstrip("/") + path
        found = classify(origin.domain_name)
        if found is not None and found[0] == "s3" and found[1].get("bucket"):
            return self._s3_origin(
                dist, origin, found[1]["bucket"], origin_path, method, conditions
            )
        if found is None or found[0] not in self.emulator.front.services:
            raise OriginUnreachable(
                f"{UNREACHABLE} (labbook emulator: origin {origin.domain_name!r} is not served "
                "offline; only S3 buckets, S3 website endpoints and API Gateway stages of this "
                "lab are. Point the origin at one of those, or run this lab on a real account.)"
            )
        scheme = _origin_scheme(origin, request)
        if found[0] == "website" and scheme == "https":
            raise OriginUnreachable(  # S3 website endpoints do not speak HTTPS
                f"{UNREACHABLE} (S3 website endpoints accept HTTP only: set the origin's "
                "OriginProtocolPolicy to http-only.)"
            )
        query = urlencode(forwarded_query(behaviour, request.query))
        netloc = origin.domain_name + _origin_port(origin, scheme)
        url = f"{scheme}://{netloc}{origin_path}" + (f"?{query}" if query else "")
        headers = origin_headers(behaviour, origin, request, method, conditions)
        headers["Via"] = via(dist)
        body = request.body if method not in ("GET", "HEAD") else b""
        try:
            return self.emulator.front.dispatch(
                Request(method, url, headers, body, source_ip=CLOUDFRONT_IP)
            )
        except ConnectionFailed as exc:  # e.g. a load balancer port with no listener
            raise OriginUnreachable(
                f"{UNREACHABLE} (nothing accepted the connection at {scheme}://"
                f"{origin.domain_name}: {exc})"
            ) from None

    def _s3_origin(
        self,
        dist: Any,
        origin: Any,
        bucket_name: str,
        origin_path: str,
        method: str,
        conditions: dict[str, str] | None,
    ) -> Response:
        """An S3 REST origin: read the object as CloudFront's caller (OAC, OAI or anonymous)."""
        key = unquote(origin_path.lstrip("/"))
        if method not in ("GET", "HEAD"):
            return s3_access.xml_error(403, "AccessDenied", "Access Denied", method=method)
        caller = self._origin_caller(dist, origin)
        result = s3_access.read(bucket_name, key, caller)
        if result.status != 200:
            return s3_access.read_error(result, bucket_name, key, method)
        return s3_access.object_response(result.key, method, conditions or {})

    def _origin_caller(self, dist: Any, origin: Any) -> s3_access.Caller:
        control_id = getattr(origin, "origin_access_control_id", "") or ""
        if control_id:
            control = self._origin_access_control(control_id)
            if control is not None and control.signing_behavior != "never":
                return s3_access.cloudfront(dist.arn, now=self.emulator.clock.now())
        identity = (origin.s3_access_identity or "").rsplit("/", 1)[-1]
        if identity:
            return s3_access.origin_access_identity(identity)
        return s3_access.anonymous(CLOUDFRONT_IP, now=self.emulator.clock.now())

    def _origin_access_control(self, control_id: str) -> Any | None:
        from moto.cloudfront.models import cloudfront_backends

        backend = cloudfront_backends[self.emulator.account_id]["aws"]
        return backend.origin_access_controls.get(control_id)

    # the viewer response ---------------------------------------------------------------------
    def _finish(self, dist: Any, request: Request, outcome: Outcome, request_id: str) -> Response:
        """Add CloudFront's headers; answer 304 when the viewer's copy is current."""
        response = outcome.response
        headers = [
            (k, v)
            for k, v in response.headers
            if k.lower() not in HOP_BY_HOP and k.lower() not in ("age", "x-cache", "via")
        ]
        status, body = response.status, response.body
        etag = response.header("ETag")
        if (
            status == 200
            and etag
            and request.method in ("GET", "HEAD")
            and etag in [t.strip() for t in (request.headers.get("If-None-Match") or "").split(",")]
        ):
            status, body = 304, b""
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        if outcome.age is not None and outcome.result == "Hit":
            headers.append(("Age", str(int(outcome.age))))
        headers += [
            ("X-Cache", f"{outcome.result} from cloudfront"),
            ("Via", via(dist)),
            ("X-Amz-Cf-Pop", POP),
            ("X-Amz-Cf-Id", request_id),
        ]
        return Response(status, headers, body)

    def _record(self, dist: Any, request: Request, outcome: Outcome, response: Response) -> None:
        sent = 0 if request.method == "HEAD" else len(response.body)
        with self._lock:
            stats = self._stats.setdefault(dist.id, EdgeStats())
            stats.requests += 1
            stats.bytes_downloaded += sent
            counter = {
                "Hit": "hits",
                "RefreshHit": "refresh_hits",
                "Miss": "misses",
                "Error": "errors",
                "Redirect": "redirects",
            }[outcome.result]
            setattr(stats, counter, getattr(stats, counter) + 1)
        self.metrics.record(dist.id, request, outcome, response, sent)


# ---- helpers ------------------------------------------------------------------------------------
def via(dist: Any) -> str:
    """The Via header CloudFront adds: `1.1 {32 hex}.cloudfront.net (CloudFront)`."""
    return f"1.1 {hashlib.md5(dist.domain_name.encode()).hexdigest()}.cloudfront.net (CloudFront)"


def _fetch_method(request: Request) -> str:
    """What the edge asks a cacheable object's origin with: GET (also for a HEAD), or OPTIONS."""
    return "OPTIONS" if request.method == "OPTIONS" else "GET"


def _invalidated(path: str, patterns: list[str]) -> bool:
    for pattern in patterns:
        if pattern.endswith("*") and path.startswith(pattern[:-1]):
            return True
        if path == pattern:
            return True
    return False


def _with_path(url: str, path: str) -> str:
    parts = urlsplit(url)
    return parts._replace(path=path, query="").geturl()


def _merge_headers(
    stored: list[tuple[str, str]], fresh: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    """A 304's validators and caching headers replace the stored ones."""
    names = {"cache-control", "expires", "etag", "last-modified", "date"}
    updates = {k.lower(): (k, v) for k, v in fresh if k.lower() in names}
    kept = [(k, v) for k, v in stored if k.lower() not in updates]
    return kept + list(updates.values())


def custom_error_rule(config: Any, status: int) -> dict[str, Any] | None:
    """The CustomErrorResponse for an HTTP status, if the distribution has one."""
    for rule in (config.CustomErrorResponses or {}).get("Items") or []:
        if int(rule.get("ErrorCode", 0)) == status:
            return rule
    return None


def find_origin(config: Any, origin_id: str) -> Any | None:
    for origin in config.Origins.get("Items") or []:
        if origin.id == origin_id:
            return origin
    return None


def _origin_port(origin: Any, scheme: str) -> str:
    """`:port` when a custom origin listens on a port other than the scheme's default."""
    custom = getattr(origin, "custom_origin_config", None)
    port = getattr(custom, "http_port" if scheme == "http" else "https_port", None)
    if port is None or int(port) == (80 if scheme == "http" else 443):
        return ""
    return f":{int(port)}"


def _origin_scheme(origin: Any, request: Request) -> str:
    custom = getattr(origin, "custom_origin_config", None)
    policy = getattr(custom, "origin_protocol_policy", None) or "https-only"
    if policy == "http-only":
        return "http"
    if policy == "match-viewer":
        return urlsplit(request.url).scheme or "https"
    return "https"


def origin_headers(
    behaviour: Any,
    origin: Any,
    request: Request,
    method: str,
    conditions: dict[str, str] | None,
) -> CaseInsensitiveDict:
    """The headers CloudFront sends to a custom origin for this viewer request."""
    names = forwarded_headers(behaviour)
    out: CaseInsensitiveDict = CaseInsensitiveDict()
    for name, value in request.headers.items():
        lower = name.lower()
        if lower in ("host", "cookie", "content-length") or lower in HOP_BY_HOP:
            continue
        if lower.startswith("if-") and lower not in FORWARDED_BY_DEFAULT:
            continue  # CloudFront makes its own conditional requests
        keep = "*" in names or lower in names or lower in FORWARDED_BY_DEFAULT
        # Authorization goes to the origin for methods CloudFront does not cache
        keep = keep or (lower == "authorization" and method not in ("GET", "HEAD", "OPTIONS"))
        if keep:
            out[name] = value
    cookies = forwarded_cookies(behaviour, request.headers)
    if cookies:
        out["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    if "user-agent" not in names and "*" not in names:
        out["User-Agent"] = "Amazon CloudFront"
    out["X-Forwarded-For"] = request.source_ip
    for item in (origin.custom_headers or {}).get("Items") or []:
        out[item["HeaderName"]] = item["HeaderValue"]
    out.update(conditions or {})
    return out


# ---- CloudWatch ---------------------------------------------------------------------------------
class Metrics:
    """CloudFront's metrics in moto's CloudWatch (us-east-1, namespace AWS/CloudFront), one
    aggregated datapoint per metric and minute, at lab time."""

    NAMESPACE = "AWS/CloudFront"

    def __init__(self, emulator: Any):
        self.emulator = emulator
        self._minutes: dict[tuple[str, str, float], Any] = {}
        self._lock = threading.Lock()

    def record(
        self, dist_id: str, request: Request, outcome: Outcome, response: Response, sent: int
    ) -> None:
        """Requests, BytesDownloaded/Uploaded, error rates and (additional) CacheHitRate."""
        if self.emulator.closed:
            return
        status = response.status
        values: list[tuple[str, float, str]] = [
            ("Requests", 1.0, "None"),
            ("TotalErrorRate", 100.0 if status >= 400 else 0.0, "Percent"),
            ("4xxErrorRate", 100.0 if 400 <= status < 500 else 0.0, "Percent"),
            ("5xxErrorRate", 100.0 if status >= 500 else 0.0, "Percent"),
        ]
        if request.method in ("GET", "HEAD", "OPTIONS"):
            values.append(("BytesDownloaded", float(sent), "None"))
        if request.method in ("POST", "PUT", "PATCH"):
            values.append(("BytesUploaded", float(len(request.body)), "None"))
        if outcome.cacheable and status < 400:
            hit = outcome.result in ("Hit", "RefreshHit")
            values.append(("CacheHitRate", 100.0 if hit else 0.0, "Percent"))
        minute = int(self.emulator.clock.now() // 60) * 60
        for name, value, unit in values:
            self._add(dist_id, name, value, unit, minute)

    def _add(self, dist_id: str, name: str, value: float, unit: str, minute: float) -> None:
        from moto.cloudwatch.models import cloudwatch_backends

        with self._lock:
            datum = self._minutes.get((dist_id, name, minute))
            if datum is not None:
                datum.sum += value
                datum.sample_count += 1
                datum.min = min(datum.min, value)
                datum.max = max(datum.max, value)
                return
            backend = cloudwatch_backends[self.emulator.account_id]["us-east-1"]
            stamp = datetime.fromtimestamp(minute, tz=timezone.utc).replace(tzinfo=None)
            backend.put_metric_data(
                self.NAMESPACE,
                [
                    {
                        "MetricName": name,
                        "Dimensions": [
                            {"Name": "DistributionId", "Value": dist_id},
                            {"Name": "Region", "Value": "Global"},
                        ],
                        "Timestamp": stamp,
                        "StatisticValues": {
                            "Sum": value,
                            "Minimum": value,
                            "Maximum": value,
                            "SampleCount": 1,
                        },
                        "Unit": unit,
                    }
                ],
            )
            self._minutes[(dist_id, name, minute)] = backend.metric_data[-1]


# ---- moto: keep what the user sent, complete invalidations at once ------------------------------
def install(emulator: Any) -> None:
    """Serve `*.cloudfront.net` on the front and patch moto's CloudFront models."""
    from moto.cloudfront import models as cf

    from .signed_urls import signed_request_check

    edge = Edge(emulator)
    edge.signed_request_check = signed_request_check(emulator)
    emulator.edge = edge
    emulator.front.register("edge", edge.handle)

    original_origin = cf.Origin.__init__

    def origin_init(origin: Any, config: dict[str, Any]) -> None:
        original_origin(origin, config)
        # moto drops these, so get_distribution loses them and the edge cannot see the OAC
        origin.origin_access_control_id = config.get("OriginAccessControlId") or ""
        if "S3OriginConfig" in config:
            origin.s3_origin_config = dict(config["S3OriginConfig"])

    original_behaviour = cf.DefaultCacheBehaviour.__init__

    def behaviour_init(behaviour: Any, config: dict[str, Any]) -> None:
        original_behaviour(behaviour, config)
        # AWS's defaults when the legacy TTLs are left out (moto stores 0):
        # DefaultTTL one day (or MinTTL if larger), MaxTTL one year (or DefaultTTL if larger)
        if config.get("DefaultTTL") is None:
            behaviour.default_ttl = max(86400, behaviour.min_ttl)
        if config.get("MaxTTL") is None:
            behaviour.max_ttl = max(31536000, behaviour.default_ttl)

    original_invalidation = cf.CloudFrontBackend.create_invalidation

    def create_invalidation(backend: Any, dist_id: str, paths: list[str], caller_ref: str) -> Any:
        invalidation = original_invalidation(backend, dist_id, paths, caller_ref)
        edge.purge(dist_id, [str(p) for p in paths or []])
        invalidation.status = "Completed"  # the edge purged the paths already
        invalidation.create_time = emulator.clock.datetime().replace(tzinfo=None)
        return invalidation

    emulator._patch(cf.Origin, "__init__", origin_init)
    emulator._patch(cf.DefaultCacheBehaviour, "__init__", behaviour_init)
    emulator._patch(cf.CloudFrontBackend, "create_invalidation", create_invalidation)
