"""AWS's HTTP data planes on 127.0.0.1: API Gateway, CloudFront and S3 website endpoints.

A lab's notebook sends plain HTTP requests to AWS URLs
(`https://{api}.execute-api.{region}.amazonaws.com/{stage}/...`,
`https://{id}.cloudfront.net/...`, `http://{bucket}.s3-website-{region}.amazonaws.com/`).
Offline, `Front` serves those hosts on one loopback port and routes each request by its Host
header to the service that answers it: `gateway`, `edge`, `website`, `alb` (Application Load
Balancers, `http://{name}-{id}.{region}.elb.amazonaws.com/`) or `s3` (S3's REST endpoint,
for anonymous and presigned requests). `install_requests_route`
makes the `requests` library send those hosts to the front (keeping the Host header), so the
notebook's code is the code it would run against AWS; curl reaches the same front with
`-H 'Host: ...'`, and a browser reaches the default host at the front's own address.

A few paths under `/_aws/` answer on every host the front serves (`Front.route`), for what a
browser page at the front's address cannot reach on AWS's own hosts: `/_aws/cognito-idp/` is
Amazon Cognito's user-pool API for a sign-in page (see `cognito.py`).

**From Lambda functions.** A function's code makes its own requests to these hosts, with any
HTTP client (urllib, http.client, urllib3, a packaged `requests`) and certificate checks on:
`urlopen(f"https://{api_id}.execute-api.{region}.amazonaws.com/prod/users/42")` or
`http://{alb-dns-name}/orders`. Offline, the Lambda runtime's workers (runtime/bootstrap.py)
resolve every host `HOSTS` matches to the front, whatever the port (`worker_hosts`); other names
resolve as they do on this machine (offline: not at all). The front's one port speaks both HTTP
and TLS: a connection that opens with a TLS handshake gets one, with a certificate the lab's
certificate authority (tls.py) signs for the HTTPS hosts of `HOSTS` in every region botocore
knows (`certificate_names`), and its requests are `https`. The port the client asked for stays
in the Host header (`host:8080`; none for the scheme's own port), so a load balancer port with
no listener still fails to connect (alb.py). Workers trust the lab CA: their SSL_CERT_FILE is the
lab's bundle (this machine's authorities and the lab CA) unless the function sets its own, and a
CA file a client loads itself (certifi's, as `requests` does) trusts the lab CA too, as every
public trust store holds Amazon's root CAs.

Simplified: the certificate is the lab CA's, one for every host (on AWS, each service presents
Amazon's, and an HTTPS load balancer listener the certificate its owner chose, for the owner's
domain); any host the front serves is reachable from every function, whatever its VPC (an
internal load balancer, a function in a VPC without a NAT gateway or endpoint); only Python's
`socket.getaddrinfo` is redirected (not `gethostbyname`, nor a client with its own DNS resolver);
a request to a host on a port AWS does not listen on (API Gateway on 80, say) is served; a plain
request to an HTTPS-only host is served as HTTPS, as for the notebook's curl. S3 website
endpoints speak HTTP only: the certificate does not name them and a TLS request to one gets no
answer, as on AWS.
"""

from __future__ import annotations

import re
import socket
import ssl
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from requests.structures import CaseInsensitiveDict

from .lambda_runtime import WorkerNetwork
from .tls import Authority

# which service answers a host: (kind, pattern); the groups name the API, distribution or bucket
HOSTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "gateway",
        re.compile(r"^(?P<api_id>[a-z0-9]+)\.execute-api\.(?P<region>[a-z0-9-]+)\.amazonaws\.com$"),
    ),
    ("edge", re.compile(r"^(?P<domain>[a-z0-9]+\.cloudfront\.net)$")),
    (
        "website",
        re.compile(
            r"^(?P<bucket>[a-z0-9][a-z0-9.-]*)\.s3-website[-.](?P<region>[a-z0-9-]+)\.amazonaws\.com$"
        ),
    ),
    # a user pool's public documents (JWKS, OpenID configuration), as a token verifier fetches
    # them; the SDK's calls to cognito-idp reach moto through the backend and never come here
    ("cognito-idp", re.compile(r"^cognito-idp\.(?P<region>[a-z0-9-]+)\.amazonaws\.com$")),
    # the lab itself, for a client that reaches this lab as its AWS account (a stand-in): the
    # lab clock moves when that client waits (`Clock.advance`)
    ("control", re.compile(r"^control\.labbook\.localhost$")),
    # an Application Load Balancer's DNS name, `{name}-{id}.{region}.elb.amazonaws.com`
    # (`internal-` first for an internal one, `dualstack.` optional): see alb.py
    (
        "alb",
        re.compile(
            r"^(?:dualstack\.)?(?P<name>[a-z0-9][a-z0-9-]*)\.(?P<region>[a-z0-9-]+)\.elb\.amazonaws\.com$"
        ),
    ),
    # S3's REST endpoints, for requests a browser or curl makes (anonymous or presigned);
    # boto3 reaches S3 through the backend and never comes here
    ("s3", re.compile(r"^s3(?:[.-](?P<region>[a-z0-9-]+))?\.amazonaws\.com$")),
    (
        "s3",
        re.compile(
            r"^(?P<bucket>[a-z0-9][a-z0-9.-]*)\.s3(?:[.-](?P<region>[a-z0-9-]+))?\.amazonaws\.com$"
        ),
    ),
)


def classify(host: str) -> tuple[str, dict[str, str]] | None:
    """(service, the host's parts) for a host the front serves, else None."""
    host = host.split(":", 1)[0].lower().rstrip(".")
    for kind, pattern in HOSTS:
        match = pattern.match(host)
        if match:
            return kind, match.groupdict()
    return None


def worker_hosts() -> tuple[str, ...]:
    """The patterns of `HOSTS` as strings, for a Lambda worker (which cannot import this module):
    they match a host name lowercased, without its port and trailing dot."""
    return tuple(pattern.pattern for _, pattern in HOSTS)


def certificate_names() -> list[str]:
    """What the front's TLS certificate names: every HTTPS host of `HOSTS`, in each region of
    botocore's partitions under amazonaws.com (S3 website endpoints speak HTTP only: not named)."""
    import botocore.loaders

    partitions = botocore.loaders.create_loader().load_data("endpoints")["partitions"]
    regions = sorted(
        {r for p in partitions if p.get("dnsSuffix") == "amazonaws.com" for r in p["regions"]}
    )
    names = ["localhost", "127.0.0.1", "control.labbook.localhost", "*.cloudfront.net"]
    names += ["s3.amazonaws.com", "*.s3.amazonaws.com"]
    for region in regions:
        names += [
            f"*.execute-api.{region}.amazonaws.com",
            f"cognito-idp.{region}.amazonaws.com",
            f"*.{region}.elb.amazonaws.com",
            f"s3.{region}.amazonaws.com",
            f"*.s3.{region}.amazonaws.com",
            f"s3-{region}.amazonaws.com",
            f"*.s3-{region}.amazonaws.com",
        ]
    return names


@dataclass
class Request:
    """One viewer request as the service receives it."""

    method: str
    url: str  # as the client sent it: scheme://host/path?query (path and query still encoded)
    headers: CaseInsensitiveDict = field(default_factory=CaseInsensitiveDict)
    body: bytes = b""
    source_ip: str = "127.0.0.1"

    @property
    def host(self) -> str:
        return (urlsplit(self.url).hostname or "").lower()

    @property
    def path(self) -> str:
        """The path, percent-encoded as sent ('/' when empty)."""
        return urlsplit(self.url).path or "/"

    @property
    def query(self) -> str:
        """The raw query string, without '?'."""
        return urlsplit(self.url).query


@dataclass
class Response:
    """What the service answers; headers may repeat (Set-Cookie), so they are a list."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    reason: str | None = None  # the status line's reason phrase, when not the standard one

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


Handler = Callable[[Request, dict[str, str]], Response]


class ConnectionFailed(Exception):
    """Raised by a service when nothing accepts the connection (a load balancer port with no
    listener): the front closes the connection without an answer, so the client sees a
    connection error, as it would on AWS."""


def not_found_host(host: str) -> Response:
    """What AWS answers for a host that resolves but names nothing (DNS would fail for most)."""
    return Response(
        404,
        [("Content-Type", "text/plain")],
        f"no API, distribution or website answers {host!r} in this lab\n".encode(),
    )


class Front:
    """One loopback HTTP and HTTPS server for every AWS HTTP data plane of a lab."""

    def __init__(self, authority: Authority | None = None) -> None:
        self.services: dict[str, Handler] = {}
        self.paths: dict[str, Handler] = {}  # path prefix -> handler, whatever the host
        self.default_host: str | None = None  # what a browser at the front's own address sees
        # the lab's certificate authority signs the front's certificate (its own if none given)
        self.authority = authority if authority is not None else Authority()
        self._owns_authority = authority is None
        self._tls: ssl.SSLContext | None = None
        self._tls_lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def register(self, kind: str, handler: Handler) -> None:
        self.services[kind] = handler

    def route(self, prefix: str, handler: Handler) -> None:
        """Answer `prefix` (a path ending in '/', or the same path without it) on every host."""
        self.paths[prefix] = handler

    def dispatch(self, request: Request) -> Response:
        path = request.path
        for prefix, handler in self.paths.items():
            if path.startswith(prefix) or path == prefix.rstrip("/"):
                return handler(request, {})
        found = classify(request.host)
        if found is None and self.default_host:
            parts = urlsplit(request.url)
            request.url = parts._replace(netloc=self.default_host).geturl()
            found = classify(self.default_host)
        if found is None or found[0] not in self.services:
            return not_found_host(request.host)
        kind, parts = found
        return self.services[kind](request, parts)

    # ---- the loopback server ---------------------------------------------------------------
    @property
    def address(self) -> str:
        """host:port of the running front."""
        assert self._server is not None, "the front is not running"
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    @property
    def port(self) -> int:
        """The running front's port (HTTP and HTTPS)."""
        assert self._server is not None, "the front is not running"
        return int(self._server.server_address[1])

    def worker_network(self) -> WorkerNetwork | None:
        """How a Lambda worker reaches this front as AWS's hosts (None when it is not running)."""
        if self._server is None or self.authority.closed:
            return None
        return WorkerNetwork(
            front_port=self.port,
            hosts=worker_hosts(),
            ca_file=self.authority.ca_file,
            ca_bundle=self.authority.bundle,
        )

    def tls_context(self) -> ssl.SSLContext:
        """The server side of the front's TLS, made on the first TLS connection (a few ms)."""
        with self._tls_lock:
            if self._tls is None:
                self._tls = self.authority.server_context(certificate_names())
            return self._tls

    def start(self, port: int = 0) -> None:
        front = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = CaseInsensitiveDict(self.headers.items())
                host = headers.get("Host") or front.address
                # S3 website endpoints speak HTTP only; everything else is HTTPS on AWS, and a
                # browser at the front's own address stands for a reader of the default host
                kind = (classify(host) or ("",))[0]
                scheme = headers.pop("X-Labbook-Scheme", None) or (
                    "http" if kind in ("website", "alb") else "https"
                )
                if isinstance(self.connection, ssl.SSLSocket):  # the client connected with TLS
                    scheme = "https"
                    if kind == "website":  # nothing answers HTTPS at an S3 website endpoint
                        self.close_connection = True
                        return
                request = Request(
                    method=self.command,
                    url=f"{scheme}://{host}{self.path}",
                    headers=headers,
                    body=body,
                    source_ip=headers.pop("X-Labbook-Source-Ip", None) or self.client_address[0],
                )
                try:
                    response = front.dispatch(request)
                except ConnectionFailed:  # no answer at all: the client's connection fails
                    self.close_connection = True
                    return
                except Exception as exc:  # a bug in the emulator: say so, as a 500
                    response = Response(
                        500,
                        [("Content-Type", "text/plain")],
                        f"labbook emulator error: {type(exc).__name__}: {exc}\n".encode(),
                    )
                names = {k.lower() for k, _ in response.headers}
                # the service's own Server and Date (AmazonS3, CloudFront) replace the stdlib's
                self.send_response_only(response.status, response.reason)
                if "server" not in names:
                    self.send_header("Server", self.version_string())
                if "date" not in names:
                    self.send_header("Date", self.date_time_string())
                for key, value in response.headers:
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                body_out = b"" if self.command == "HEAD" else response.body
                if "content-length" in names and self.command == "HEAD":
                    self.send_header("Content-Length", response.header("Content-Length") or "0")
                else:
                    self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                self.wfile.write(body_out)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve

            def log_message(self, format: str, *args: Any) -> None:
                return None

        try:
            self._server = _Server(("127.0.0.1", port), _Handler, self)
        except OSError as exc:
            raise RuntimeError(
                f"cannot serve AWS's HTTP endpoints on 127.0.0.1:{port} ({exc.strerror}): choose "
                "another port (labbook serve --port N, or LABBOOK_FRONT_PORT; 0 picks a free one)"
            ) from exc
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._owns_authority:
            self.authority.close()


class _Server(ThreadingHTTPServer):
    """The front's listener: each connection is plain HTTP, or TLS when it opens with a TLS
    handshake (its first byte is a handshake record, 0x16; an HTTP request starts with a
    method), so one port serves `http://` and `https://` on any port a client asked for."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: Any, front: Front) -> None:
        self.front = front
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up before its answer (it timed out) is not an error of the front:
        AWS's servers drop the answer silently too. Anything else is printed, as the stdlib does."""
        gone = (ConnectionError, TimeoutError, ssl.SSLEOFError, ssl.SSLZeroReturnError)
        if isinstance(sys.exc_info()[1], gone):
            return
        super().handle_error(request, client_address)

    def finish_request(self, request: Any, client_address: Any) -> None:
        if not _opens_tls(request):
            super().finish_request(request, client_address)
            return
        try:
            connection = self.front.tls_context().wrap_socket(request, server_side=True)
        except (OSError, ValueError):  # a failed handshake: the client says why (untrusted...)
            return
        try:
            super().finish_request(connection, client_address)
        finally:
            self.shutdown_request(connection)


def _opens_tls(connection: socket.socket) -> bool:
    """Whether the client's first byte opens a TLS handshake (read without consuming it)."""
    try:
        return connection.recv(1, socket.MSG_PEEK) == b"\x16"
    except OSError:
        return False


def install_requests_route(front_address: str, patch: Callable[[Any, str, Any], None]) -> None:
    """Send `requests` calls for the front's AWS hosts to `front_address`, Host kept.

    `patch(owner, name, value)` records the change so it can be undone (Emulator._patch).
    """
    from requests.adapters import HTTPAdapter

    original = HTTPAdapter.send

    def send(adapter: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        parts = urlsplit(request.url)
        if parts.hostname is None or classify(parts.hostname) is None:
            return original(adapter, request, *args, **kwargs)
        routed = request.copy()
        routed.url = parts._replace(scheme="http", netloc=front_address).geturl()
        routed.headers["Host"] = parts.netloc
        routed.headers["X-Labbook-Scheme"] = parts.scheme
        response = original(adapter, routed, *args, **kwargs)
        response.url = request.url
        response.request = request
        return response

    patch(HTTPAdapter, "send", send)
