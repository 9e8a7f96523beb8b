"""Application Load Balancers, answering at their DNS names (`http://{name}-{id}.{region}.elb.amazonaws.com/...`).

What AWS does (User Guide for Application Load Balancers,
https://docs.aws.amazon.com/elasticloadbalancing/latest/application/): a load balancer accepts
connections only on the ports of its listeners. Each listener evaluates its rules from the
lowest priority value to the highest and then its default rule; a rule applies when all its
conditions hold, and a condition holds when one of its values matches (`path-pattern`,
case-sensitive, and `host-header`, `http-header`, `query-string`, case-insensitive, with the
wildcards `*` and `?`; `http-request-method`, exact; `source-ip`, CIDR blocks). The rule's
action answers: `fixed-response`, `redirect` (301/302, with `#{protocol}`, `#{host}`,
`#{port}`, `#{path}`, `#{query}`; the Location names the port, `https://host:443/`), or
`forward` to one target group or to several by weight. A `lambda` target group invokes its
function synchronously with the ALB event (`requestContext.elb.targetGroupArn`, `httpMethod`,
`path`, `queryStringParameters` as sent, not decoded, lowercased `headers` plus
`x-amzn-trace-id`, `x-forwarded-for`, `x-forwarded-port`, `x-forwarded-proto`, `body`, base64
unless its type is text/*, application/json, application/javascript or application/xml; with
the attribute `lambda.multi_value_headers.enabled`, `multiValueQueryStringParameters` and
`multiValueHeaders` instead) and maps back `statusCode`, `statusDescription`,
`headers`/`multiValueHeaders`, `body`, `isBase64Encoded`. RegisterTargets refuses a function
whose resource policy does not let elasticloadbalancing.amazonaws.com invoke it (AccessDenied,
403). The load balancer's own answers carry `Server: awselb/2.0` and a small HTML page; the
troubleshooting guide's codes: 502 when the function fails, times out, answers malformed or
with more than 1 MB; 503 when the target group has no registered (usable) target; 504 when a
target does not answer in time; 413 for a request body over 1 MB to a function.

What is emulated: all of the above, from moto's stored load balancers, listeners, rules and
target groups, for `requests` in the notebook (moto backend) and for clients of the loopback
front (moto-server backend; curl with `-H 'Host: ...'`). Internal load balancers get AWS's
`internal-` DNS names. `instance` and `ip` target groups forward to *stand-ins*
(`LoadBalancers.stand_ins`): something that serves an instance id or an IP (and port) says so
with `stand_ins.serve(target_id, handler_or_loopback_url, port=...)` (an EC2 instance whose user
data starts `python3 -m http.server` gets one from instances.py, booted when a request first
needs it); requests go round-robin to the registered targets that have one and are not
`unused` (a stopped instance), with `X-Forwarded-For`/`-Proto`/`-Port` and `X-Amzn-Trace-Id`
added; a refused connection is 502, no answer within the load balancer's
`idle_timeout.timeout_seconds` (default 60) is 504.

Simplified (each says so once in the lab's notes where it matters):

- a port with no listener: the front closes the connection without an answer
  (`http.ConnectionFailed`), so the client sees a connection error, as it does on AWS; an
  `https://` request to an HTTP listener fails the same way (no TLS there);
- HTTPS listeners take `https://` requests without TLS or certificates; a plain `http://`
  request to one gets AWS's 400;
- weighted forwarding interleaves the target groups deterministically (smooth weighted round
  robin), so the split matches the weights exactly; AWS chooses per request, so it only tends to
  them. Target group stickiness and the `least_outstanding_requests` algorithm are not
  emulated; authenticate-cognito/-oidc actions, regex match evaluations and URL/host rewrite
  transforms are not either (noted, and answered as AWS would fail them);
- a registered instance or IP target no stand-in serves counts as not answering health checks
  and is skipped; with none left, 503 (on AWS a target group whose targets are all unhealthy
  fails open);
- internal load balancers answer every client of the lab, not only clients inside the VPC;
  a load balancer still `provisioning` already answers (on AWS its name resolves once active);
- a header a client repeats reaches the target once, with its last value (the front keeps one
  value per name); access logs and `AWS/ApplicationELB` metrics are not written.

moto seams (tests/emulator/test_moto_seams.py checks them): `ELBv2Backend.create_load_balancer`
(AWS-shaped DNS names), `ELBv2Backend.register_targets` (the invoke permission check); read:
`elbv2_backends`, `FakeLoadBalancer` (`dns_name`, `type`, `scheme`, `state`, `listeners`,
`attrs`, `subnets`), `FakeListener` (`port`, `protocol`, `rules`), `FakeListenerRule` /
`FakeRule` (`priority`, `conditions`, `actions`, `arn`), `FakeAction.data`, `FakeTargetGroup`
(`target_type`, `targets`, `attributes`, `protocol`, `port`, `health_for`), and moto's turning
a werkzeug HTTPException raised in a backend call into the error response.
"""

from __future__ import annotations

import base64
import binascii
import http.client
import ipaddress
import json
import os
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from requests.structures import CaseInsensitiveDict

from .gateway import _action_invokes, _conditions_hold, _listify, _resource_matches
from .http import ConnectionFailed, Request, Response, not_found_host

# ---- AWS's numbers --------------------------------------------------------------------------
LAMBDA_BODY_LIMIT = 1_048_576  # "maximum size of the request body ... to a Lambda function"
LAMBDA_RESPONSE_LIMIT = 1_048_576  # "maximum size of the response JSON ... is 1 MB"
CONNECT_TIMEOUT_S = 10.0  # "failed to establish a connection ... (10 seconds)"
IDLE_TIMEOUT_S = 60.0  # idle_timeout.timeout_seconds default
SERVER = ("Server", "awselb/2.0")
TEXT_TYPES = ("application/json", "application/javascript", "application/xml")
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
}
# the status lines of the load balancer's own HTML pages
TITLES = {
    301: "301 Moved Permanently",
    302: "302 Found",
    400: "400 Bad Request",
    413: "413 Request Entity Too Large",
    500: "500 Internal Server Error",
    502: "502 Bad Gateway",
    503: "503 Service Temporarily Unavailable",
    504: "504 Gateway Time-out",
}
ELB_PRINCIPAL = "elasticloadbalancing.amazonaws.com"
# placeholder defaults of a redirect action's components
REDIRECT_DEFAULTS = {
    "Protocol": "#{protocol}",
    "Host": "#{host}",
    "Port": "#{port}",
    "Path": "/#{path}",
    "Query": "#{query}",
}

# a stand-in: a function answering the load balancer's request, or a loopback base URL
StandIn = Callable[[Request], Response] | str


def elb_page(status: int, headers: list[tuple[str, str]] | None = None) -> Response:
    """One of the load balancer's own answers: `Server: awselb/2.0` and its small HTML page."""
    title = TITLES.get(status, str(status))
    body = (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n</body>\r\n</html>\r\n"
    )
    out = [SERVER, ("Content-Type", "text/html"), *(headers or [])]
    return Response(status, out, body.encode())


class StandIns:
    """Who answers for an instance or IP target offline: a local handler or a loopback URL."""

    def __init__(self) -> None:
        self._servers: dict[tuple[str, int | None], StandIn] = {}
        self._lock = threading.Lock()

    def serve(self, target_id: str, server: StandIn, *, port: int | None = None) -> None:
        """`target_id` (an instance id or an IP), on `port` or on any port, is answered by
        `server`: a function `(Request) -> Response`, or `http://127.0.0.1:PORT` (a loopback
        HTTP server the request is sent to, path and query kept)."""
        if isinstance(server, str):
            parts = urlsplit(server)
            if parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "localhost", "::1"):
                raise ValueError(
                    f"stand-in for {target_id}: {server!r} is not a loopback http:// URL "
                    "(offline, a target is served on 127.0.0.1)"
                )
        elif not callable(server):
            raise TypeError(
                f"stand-in for {target_id}: a function or a loopback URL, not {server!r}"
            )
        with self._lock:
            self._servers[(target_id, port)] = server

    def forget(self, target_id: str, port: int | None = None) -> None:
        """Nothing answers for `target_id` (on `port`, or the any-port entry) any more."""
        with self._lock:
            self._servers.pop((target_id, port), None)

    def find(self, target_id: str, port: int) -> StandIn | None:
        """The stand-in for this target and port (an exact port first, then any port)."""
        with self._lock:
            return self._servers.get((target_id, port)) or self._servers.get((target_id, None))


@dataclass
class Call:
    """One request to a load balancer, as it goes through the listener."""

    request: Request
    lb: Any
    listener: Any
    scheme: str  # http | https, as the client connected
    port: int
    trace_id: str

    @property
    def host(self) -> str:
        """The Host header's name, without a port."""
        raw = self.request.headers.get("Host") or self.request.host
        return (urlsplit(f"//{raw}").hostname or raw).lower()


def _access_denied(message: str) -> Exception:
    """AWS's AccessDenied (403) in the ELB query protocol's XML; moto sends a werkzeug
    HTTPException raised in a backend call as it is."""
    from werkzeug.exceptions import HTTPException

    class _Denied(HTTPException):
        code = 403

        def get_headers(self, *args: Any, **kwargs: Any) -> list[tuple[str, str]]:
            return [("Content-Type", "text/xml"), ("X-Amzn-ErrorType", "AccessDenied")]

    error = _Denied()
    error.description = (
        '<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/">'
        f"<Error><Type>Sender</Type><Code>AccessDenied</Code><Message>{_xml(message)}</Message>"
        f"</Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    )
    return error


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ---- the load balancers ---------------------------------------------------------------------
class LoadBalancers:
    """Serves every Application Load Balancer of the lab's moto state on the front."""

    def __init__(self, emulator: Any):
        self.emulator = emulator
        self.stand_ins = StandIns()
        self._lock = threading.Lock()
        self._weights: dict[str, dict[str, int]] = {}  # rule ARN -> target group -> current
        self._turns: dict[str, int] = {}  # target group ARN -> requests sent round-robin
        self._noted: set[str] = set()
        self.instances: Any = None  # instances.Instances: EC2 targets served from user data

    # ---- wiring ---------------------------------------------------------------------------
    def patch_moto(self, patch: Callable[[Any, str, Any], None]) -> None:
        """AWS-shaped DNS names; RegisterTargets checks a function's invoke permission."""
        from moto.elbv2 import models

        balancers = self
        original_create = models.ELBv2Backend.create_load_balancer

        def create_load_balancer(backend: Any, name: str, *args: Any, **kwargs: Any) -> Any:
            lb = original_create(backend, name, *args, **kwargs)
            if lb.type == "application":
                lb.dns_name = dns_name(lb.name, lb.arn, backend.region_name, lb.scheme)
            return lb

        patch(models.ELBv2Backend, "create_load_balancer", create_load_balancer)
        original_register = models.ELBv2Backend.register_targets

        def register_targets(backend: Any, target_group_arn: str, instances: list[Any]) -> None:
            group = backend.target_groups.get(target_group_arn)
            if group is not None and group.target_type == "lambda":
                for target in instances:
                    balancers.check_invoke_permission(str(target.get("Id", "")), group.arn)
            return original_register(backend, target_group_arn, instances)

        patch(models.ELBv2Backend, "register_targets", register_targets)

    def check_invoke_permission(self, function_arn: str, target_group_arn: str) -> None:
        """Raise AWS's AccessDenied unless the function lets this target group invoke it."""
        fn = self.emulator.find_function(function_arn, None) if ":" in function_arn else None
        if fn is None or not self.may_invoke(fn, function_arn, target_group_arn):
            raise _access_denied(
                f"elasticloadbalancing principal does not have permission to invoke "
                f"{function_arn} from target group {target_group_arn}"
            )

    def may_invoke(self, fn: Any, function_arn: str, target_group_arn: str) -> bool:
        """Does the function's resource policy let Elastic Load Balancing invoke it for this
        target group (principal, lambda:InvokeFunction, resource, aws:SourceArn/Account)?"""
        statements = list(getattr(getattr(fn, "policy", None), "statements", None) or [])
        base = self.emulator.find_function(":".join(function_arn.split(":")[:7]), None)
        if base is not None and base is not fn:
            statements += list(getattr(getattr(base, "policy", None), "statements", None) or [])
        context = {
            "aws:sourcearn": target_group_arn,
            "aws:sourceaccount": target_group_arn.split(":")[4],
        }
        return any(
            statement.get("Effect", "Allow") == "Allow"
            and _principal_is_elb(statement.get("Principal"))
            and _action_invokes(statement.get("Action"))
            and _resource_matches(statement.get("Resource"), function_arn)
            and _conditions_hold(statement.get("Condition") or {}, context)
            for statement in statements
        )

    def note(self, message: str) -> None:
        """Tell the notebook once about something the emulator does not do as AWS would."""
        if message not in self._noted:
            self._noted.add(message)
            self.emulator.note(message)

    # ---- a request ------------------------------------------------------------------------
    def handle(self, request: Request, parts: dict[str, str]) -> Response:
        """Answer one request to a load balancer's DNS name."""
        lb = self._find(parts["region"], request.host)
        if lb is None:
            return not_found_host(request.host)
        if lb.type != "application":
            self.note(
                f"Elastic Load Balancing: {lb.name} is a {lb.type} load balancer; only "
                "Application Load Balancers answer offline (the connection is refused)"
            )
            raise ConnectionFailed(f"{lb.dns_name}: {lb.type} load balancers are not emulated")
        if lb.state == "provisioning":
            self.note(
                f"Elastic Load Balancing: {lb.name} is still provisioning; on AWS its DNS name "
                "answers once it is active (elbv2.get_waiter('load_balancer_available'))"
            )
        scheme = urlsplit(request.url).scheme or "http"
        port = urlsplit(request.url).port or (443 if scheme == "https" else 80)
        listener = next((li for li in lb.listeners.values() if int(li.port) == port), None)
        if listener is None:
            raise ConnectionFailed(f"{lb.dns_name} has no listener on port {port}")
        if listener.protocol == "HTTP" and scheme == "https":
            raise ConnectionFailed(f"{lb.dns_name}:{port} is an HTTP listener: no TLS handshake")
        if listener.protocol == "HTTPS" and scheme == "http":
            return elb_page(400)  # "The plain HTTP request was sent to HTTPS port"
        if listener.protocol == "HTTPS":
            self.note(
                "Elastic Load Balancing: HTTPS listeners answer https:// requests offline "
                "without TLS (no certificate is presented or checked)"
            )
        now = self.emulator.clock.now()
        call = Call(
            request=request,
            lb=lb,
            listener=listener,
            scheme=scheme,
            port=port,
            trace_id=f"Root=1-{int(now):08x}-{os.urandom(12).hex()}",
        )
        rule = next(r for r in ordered_rules(listener) if self._rule_applies(r, call))
        return self._act(rule, call)

    def _find(self, region: str, host: str) -> Any:
        from moto.elbv2.models import elbv2_backends

        host = host.lower().removeprefix("dualstack.")
        backend = elbv2_backends[self.emulator.account_id][region]
        for lb in list(backend.load_balancers.values()):
            if lb.dns_name.lower() == host:
                return lb
        return None

    # ---- rules ----------------------------------------------------------------------------
    def _rule_applies(self, rule: Any, call: Call) -> bool:
        return all(self._condition_holds(c, call) for c in rule.conditions or [])

    def _condition_holds(self, condition: dict[str, Any], call: Call) -> bool:
        kind = condition.get("Field")
        config_key = {
            "path-pattern": "PathPatternConfig",
            "host-header": "HostHeaderConfig",
            "http-header": "HttpHeaderConfig",
            "http-request-method": "HttpRequestMethodConfig",
            "query-string": "QueryStringConfig",
            "source-ip": "SourceIpConfig",
        }.get(str(kind))
        if config_key is None:
            self.note(f"Elastic Load Balancing: rule condition {kind!r} is not emulated")
            return False
        config = condition.get(config_key) or {}
        if config.get("RegexValues"):
            self.note(
                f"Elastic Load Balancing: regex match evaluations ({kind}) are not emulated; "
                "the condition does not match offline"
            )
            return False
        values = list(config.get("Values") or condition.get("Values") or [])
        request = call.request
        if kind == "path-pattern":
            return any(wildcard_match(v, request.path) for v in values)
        if kind == "host-header":
            return any(wildcard_match(v, call.host, ignore_case=True) for v in values)
        if kind == "http-header":
            actual = request.headers.get(str(config.get("HttpHeaderName", "")))
            return actual is not None and any(
                wildcard_match(v, actual, ignore_case=True) for v in values
            )
        if kind == "http-request-method":
            return request.method in values
        if kind == "query-string":
            pairs = [(unquote(k), unquote(v)) for k, v in query_pairs(request.query)]
            return any(_query_value_matches(v, pairs) for v in values)
        return any(_in_cidr(request.source_ip, v) for v in values)

    # ---- actions --------------------------------------------------------------------------
    def _act(self, rule: Any, call: Call) -> Response:
        actions = sorted(
            enumerate(rule.actions or []),
            key=lambda pair: (int(pair[1].data.get("Order") or pair[0] + 1), pair[0]),
        )
        for _, action in actions:
            kind = action.data.get("Type")
            if kind == "fixed-response":
                return fixed_response(action.data.get("FixedResponseConfig") or {})
            if kind == "redirect":
                return redirect(action.data.get("RedirectConfig") or {}, call)
            if kind == "forward":
                return self._forward(rule, action.data, call)
            self.note(
                f"Elastic Load Balancing: {kind} actions are not emulated; the request answered 500"
            )
            return elb_page(500)
        return elb_page(500)

    def _forward(self, rule: Any, data: dict[str, Any], call: Call) -> Response:
        from moto.elbv2.models import elbv2_backends

        config = data.get("ForwardConfig") or {}
        groups = [
            (str(g["TargetGroupArn"]), int(g.get("Weight", 1) or 0))
            for g in config.get("TargetGroups") or []
        ]
        if not groups and data.get("TargetGroupArn"):
            groups = [(str(data["TargetGroupArn"]), 1)]
        if (config.get("TargetGroupStickinessConfig") or {}).get("Enabled"):
            self.note(
                "Elastic Load Balancing: target group stickiness is not emulated; each "
                "request picks a target group by weight"
            )
        arn = self._pick(rule.arn, groups)
        if arn is None:
            return elb_page(503)
        parts = arn.split(":")
        group = elbv2_backends[parts[4]][parts[3]].target_groups.get(arn)
        if group is None:
            return elb_page(503)
        if group.target_type == "lambda":
            return self._invoke_lambda(group, call)
        if group.target_type in ("instance", "ip"):
            return self._to_stand_in(group, call)
        self.note(f"Elastic Load Balancing: {group.target_type} target groups are not emulated")
        return elb_page(503)

    def _pick(self, key: str, groups: list[tuple[str, int]]) -> str | None:
        """Smooth weighted round robin: each group gets its weight's share, interleaved."""
        live = [(arn, weight) for arn, weight in groups if weight > 0]
        if len(live) == 1:
            return live[0][0]
        if not live:
            return None
        total = sum(weight for _, weight in live)
        with self._lock:
            current = self._weights.setdefault(key, {})
            best = None
            for arn, weight in live:
                current[arn] = current.get(arn, 0) + weight
                if best is None or current[arn] > current[best]:
                    best = arn
            assert best is not None
            current[best] -= total
        return best

    # ---- Lambda targets -------------------------------------------------------------------
    def _invoke_lambda(self, group: Any, call: Call) -> Response:
        targets = list(group.targets.values())
        if not targets:
            return elb_page(503)
        if len(call.request.body) > LAMBDA_BODY_LIMIT:
            return elb_page(413)
        function_arn = str(targets[0]["Id"])
        fn = self.emulator.find_function(function_arn, None) if ":" in function_arn else None
        if fn is None:
            self.note(
                f"Elastic Load Balancing: target group {group.name} names {function_arn}, "
                "which does not exist: AWS answers 502"
            )
            return elb_page(502)
        if not self.may_invoke(fn, function_arn, group.arn):
            self.note(
                f"Elastic Load Balancing: {function_arn} no longer lets "
                f"{ELB_PRINCIPAL} invoke it from {group.arn}: AWS answers 502"
            )
            return elb_page(502)
        multi = str(group.attributes.get("lambda.multi_value_headers.enabled")).lower() == "true"
        event = lambda_event(call, group.arn, multi=multi)
        try:
            outcome = self.emulator.run(fn, json.dumps(event).encode())
        except Exception as exc:  # the Lambda service could not run it
            self.note(f"Elastic Load Balancing: could not invoke {function_arn}: {exc}")
            return elb_page(502)
        # load-balancer-troubleshooting.html, HTTP 502: the function "returned an error", "did
        # not respond before its configured timeout", or "the response body exceeds 1 MB"
        if outcome.failed:
            return elb_page(502)
        if len(outcome.payload) > LAMBDA_RESPONSE_LIMIT:
            self.note(
                f"Elastic Load Balancing: {function_arn} answered more than 1 MB (AWS answers "
                "502); return a smaller body, or a redirect to an S3 object"
            )
            return elb_page(502)
        response = lambda_response(outcome.payload, multi=multi)
        if response is None:
            self.note(
                f"Elastic Load Balancing: {function_arn} returned a response the load balancer "
                "cannot use (AWS answers 502): return a dict with an int statusCode, "
                + ("multiValueHeaders" if multi else "headers")
                + " and a string body"
            )
            return elb_page(502)
        return response

    # ---- instance and IP targets ----------------------------------------------------------
    def _to_stand_in(self, group: Any, call: Call) -> Response:
        if self.instances is not None:
            self.instances.sync()  # boot new instances, stop the servers of gone ones
        candidates = []
        for target in list(group.targets.values()):
            port = int(target.get("Port") or group.port or 80)
            health = group.health_for(target, group.ec2_backend)
            if health.status in ("unused", "draining"):
                continue
            server = self.stand_ins.find(str(target["Id"]), port)
            if server is None and self.instances is not None:
                server = self.instances.boot(str(target["Id"]), port)
            if server is None:
                self.note(
                    f"Elastic Load Balancing: nothing serves target {target['Id']}:{port} of "
                    f"{group.name} offline; it is skipped as unhealthy "
                    "(stand_ins.serve(target_id, handler_or_url) makes it answer)"
                )
                continue
            candidates.append((str(target["Id"]), port, server))
        if not candidates:
            return elb_page(503)
        with self._lock:
            turn = self._turns.get(group.arn, 0)
            self._turns[group.arn] = turn + 1
        target_id, port, server = candidates[turn % len(candidates)]
        answer = self._answer_from(server, target_id, self._target_request(call, group), call)
        if self.instances is not None:  # its requests and bytes (usage, target tracking)
            self.instances.answered(target_id, len(answer.body))
        return answer

    def _answer_from(
        self, server: StandIn, target_id: str, forwarded: Request, call: Call
    ) -> Response:
        """The target's answer (or the load balancer's 502/504 when it gives none)."""
        if callable(server):
            try:
                answer = server(forwarded)
            except TimeoutError:
                return elb_page(504)
            except (ConnectionError, ConnectionFailed):
                return elb_page(502)
            except Exception as exc:  # the target broke the connection: a malformed answer
                self.note(f"Elastic Load Balancing: target {target_id} failed: {exc!r}")
                return elb_page(502)
            if not isinstance(answer, Response):
                return elb_page(502)
            return Response(answer.status, _end_to_end(answer.headers), answer.body, answer.reason)
        return self._send_to_url(server, forwarded, call)

    def _target_request(self, call: Call, group: Any) -> Request:
        """The request as the load balancer sends it on: X-Forwarded-* and the trace id added."""
        request = call.request
        headers = CaseInsensitiveDict(request.headers.items())
        prior = headers.get("X-Forwarded-For")
        headers["X-Forwarded-For"] = f"{prior}, {request.source_ip}" if prior else request.source_ip
        headers["X-Forwarded-Proto"] = call.scheme
        headers["X-Forwarded-Port"] = str(call.port)
        headers.setdefault("X-Amzn-Trace-Id", call.trace_id)
        scheme = (group.protocol or "HTTP").lower()
        url = f"{scheme}://{request.headers.get('Host') or call.host}{request.path}"
        if request.query:
            url += f"?{request.query}"
        return Request(request.method, url, headers, request.body, source_ip=_node_ip(call.lb))

    def _send_to_url(self, base: str, forwarded: Request, call: Call) -> Response:
        parts = urlsplit(base)
        idle = float(call.lb.attrs.get("idle_timeout.timeout_seconds") or IDLE_TIMEOUT_S)
        conn = http.client.HTTPConnection(
            parts.hostname or "127.0.0.1", parts.port or 80, timeout=CONNECT_TIMEOUT_S
        )
        target = forwarded.path + (f"?{forwarded.query}" if forwarded.query else "")
        try:
            try:
                conn.connect()
            except TimeoutError:
                return elb_page(504)
            except OSError:  # refused: "received a TCP RST from the target"
                return elb_page(502)
            assert conn.sock is not None
            conn.sock.settimeout(idle)
            conn.putrequest(forwarded.method, target, skip_host=True, skip_accept_encoding=True)
            for key, value in forwarded.headers.items():
                if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                    conn.putheader(key, value)
            conn.putheader("Content-Length", str(len(forwarded.body)))
            conn.endheaders(forwarded.body or None)
            answer = conn.getresponse()
            body = answer.read()
        except TimeoutError:
            return elb_page(504)  # "did not respond before the idle timeout period elapsed"
        except (OSError, http.client.HTTPException):
            return elb_page(502)  # closed the connection, or a malformed answer
        finally:
            conn.close()
        return Response(answer.status, _end_to_end(answer.getheaders()), body, answer.reason)


# ---- rules ------------------------------------------------------------------------------------
def ordered_rules(listener: Any) -> list[Any]:
    """A listener's rules in evaluation order: priority, lowest first, then the default rule."""
    rules = list(listener.rules.values())
    others = sorted((r for r in rules if not r.is_default), key=lambda r: int(r.priority))
    return others + [r for r in rules if r.is_default]


def wildcard(pattern: str, *, escapes: bool = False) -> str:
    """A regex for an ELB match value: `*` is 0 or more characters, `?` exactly one; with
    `escapes` (query strings), `\\*` and `\\?` are the characters themselves."""
    out = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if escapes and char == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "*?\\":
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if char == "*" else "." if char == "?" else re.escape(char))
        i += 1
    return "".join(out)


def wildcard_match(
    pattern: str, text: str, *, ignore_case: bool = False, escapes: bool = False
) -> bool:
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.fullmatch(wildcard(pattern, escapes=escapes), text, flags) is not None


def query_pairs(query: str) -> list[tuple[str, str]]:
    """The query's key/value pairs in order, percent-encoded as sent ('&&', '&' skipped)."""
    pairs = []
    for part in query.split("&"):
        if part:
            key, _, value = part.partition("=")
            pairs.append((key, value))
    return pairs


def _query_value_matches(expected: dict[str, Any], pairs: list[tuple[str, str]]) -> bool:
    key, value = expected.get("Key"), str(expected.get("Value", ""))
    return any(
        (key is None or wildcard_match(str(key), k, ignore_case=True, escapes=True))
        and wildcard_match(value, v, ignore_case=True, escapes=True)
        for k, v in pairs
    )


def _in_cidr(address: str, block: str) -> bool:
    try:
        return ipaddress.ip_address(address) in ipaddress.ip_network(block, strict=False)
    except ValueError:
        return False


# ---- fixed responses and redirects ------------------------------------------------------------
def fixed_response(config: dict[str, Any]) -> Response:
    """A fixed-response action's answer: its status, content type and message body."""
    headers = [SERVER]
    if config.get("ContentType"):
        headers.append(("Content-Type", f"{config['ContentType']}; charset=utf-8"))
    body = str(config.get("MessageBody") or "").encode()
    return Response(int(config.get("StatusCode") or 200), headers, body)


def redirect(config: dict[str, Any], call: Call) -> Response:
    """A redirect action's answer: 301 or 302 and the Location its components make."""
    request = call.request
    values = {
        "#{protocol}": call.scheme.upper(),
        "#{host}": call.host,
        "#{port}": str(call.port),
        "#{path}": request.path.removeprefix("/"),
        "#{query}": request.query,
    }

    def component(name: str) -> str:
        text = str(config.get(name) or REDIRECT_DEFAULTS[name])
        for keyword, value in values.items():
            text = text.replace(keyword, value)
        return text

    path = component("Path")
    query = component("Query")
    location = f"{component('Protocol').lower()}://{component('Host')}:{component('Port')}"
    location += (path if path.startswith("/") else f"/{path}") + (f"?{query}" if query else "")
    status = 302 if str(config.get("StatusCode")) == "HTTP_302" else 301
    return elb_page(status, [("Location", location)])


# ---- the Lambda event and response ------------------------------------------------------------
def lambda_event(call: Call, target_group_arn: str, *, multi: bool) -> dict[str, Any]:
    """The event an Application Load Balancer sends a Lambda target for this request."""
    request = call.request
    headers = {k.lower(): v for k, v in request.headers.items()}
    prior = headers.get("x-forwarded-for")
    headers["x-forwarded-for"] = f"{prior}, {request.source_ip}" if prior else request.source_ip
    headers["x-forwarded-port"] = str(call.port)
    headers["x-forwarded-proto"] = call.scheme
    headers.setdefault("x-amzn-trace-id", call.trace_id)
    body, is_base64 = _event_body(request)
    event: dict[str, Any] = {
        "requestContext": {"elb": {"targetGroupArn": target_group_arn}},
        "httpMethod": request.method,
        "path": request.path,
    }
    pairs = query_pairs(request.query)
    if multi:
        multi_query: dict[str, list[str]] = {}
        for key, value in pairs:
            multi_query.setdefault(key, []).append(value)
        event["multiValueQueryStringParameters"] = multi_query
        event["multiValueHeaders"] = {k: [v] for k, v in headers.items()}
    else:
        event["queryStringParameters"] = dict(pairs)  # the last value of a repeated key
        event["headers"] = headers
    event["isBase64Encoded"] = is_base64
    event["body"] = body
    return event


def _event_body(request: Request) -> tuple[str, bool]:
    """The body as sent for text types, else base64 (lambda-functions.html)."""
    if not request.body:
        return "", False
    media = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if media.startswith("text/") or media in TEXT_TYPES:
        return request.body.decode("utf-8", errors="replace"), False
    return base64.b64encode(request.body).decode(), True


def lambda_response(payload: bytes, *, multi: bool) -> Response | None:
    """The HTTP response a Lambda target's result makes, or None when the load balancer
    cannot use it (not a JSON object, no int statusCode, headers or body of the wrong type)."""
    try:
        result = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(result, dict):
        return None
    status = result.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        return None
    headers = _result_headers(result.get("multiValueHeaders" if multi else "headers"), multi)
    if headers is None:
        return None
    body = result.get("body")
    if body is None:
        data = b""
    elif not isinstance(body, str):
        return None
    elif result.get("isBase64Encoded") is True:
        try:
            data = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            return None
    else:
        data = body.encode()
    description = result.get("statusDescription")
    reason = None
    if isinstance(description, str) and " " in description.strip():
        reason = description.strip().split(" ", 1)[1]
    if not any(k.lower() == "server" for k, _ in headers):
        headers.append(SERVER)
    return Response(status, headers, data, reason)


def _result_headers(source: Any, multi: bool) -> list[tuple[str, str]] | None:
    if source is None:
        return []
    if not isinstance(source, dict):
        return None
    out = []
    for name, value in source.items():
        values = value if multi else [value]
        if not isinstance(values, list):
            return None
        for item in values:
            if isinstance(item, bool):
                item = str(item).lower()
            if not isinstance(item, str | int | float):
                return None
            if str(name).lower() not in HOP_BY_HOP:  # "does not honor hop-by-hop headers"
                out.append((str(name), str(item)))
    return out


# ---- helpers ----------------------------------------------------------------------------------
def dns_name(name: str, arn: str, region: str, scheme: str) -> str:
    """AWS's DNS name for an Application Load Balancer: `{name}-{digits}.{region}.elb...`,
    with `internal-` first for an internal one (the digits come from the ARN's id)."""
    number = int(arn.rsplit("/", 1)[-1][:8], 16)
    prefix = "internal-" if scheme == "internal" else ""
    return f"{prefix}{name}-{number}.{region}.elb.amazonaws.com"


def _principal_is_elb(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return ELB_PRINCIPAL in _listify(principal.get("Service")) or principal.get("AWS") == "*"
    return principal == ELB_PRINCIPAL


def _end_to_end(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP]


def _node_ip(lb: Any) -> str:
    """An address in the load balancer's first subnet: where its requests to targets come from."""
    for subnet in getattr(lb, "subnets", None) or []:
        try:
            network = ipaddress.ip_network(subnet.cidr_block, strict=False)
            return str(network[min(10, network.num_addresses - 1)])
        except (ValueError, AttributeError):
            continue
    return "10.0.0.10"


# ---- installation -----------------------------------------------------------------------------
def install(emulator: Any) -> None:
    """Serve `*.elb.amazonaws.com` on the emulator's front and patch moto's ELBv2 seams."""
    balancers = LoadBalancers(emulator)
    balancers.patch_moto(emulator._patch)
    emulator.front.register("alb", balancers.handle)
    emulator.alb = balancers
