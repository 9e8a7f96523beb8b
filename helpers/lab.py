"""A lab: one run of a notebook against one backend, with the resources it creates."""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import re
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from botocore.client import BaseClient

from . import backends
from .clock import Clock

TAG_LAB = "labbook:lab"
TAG_RUN = "labbook:run"
DEFAULT_REGION = "us-east-1"
AWS_RUNTIME = "python3.12"
_OFFLINE_POLLS = 5  # offline, settle(until=...) asks the condition at most this many times  # the runtime the course's functions use on a real account
_NAME_MAX = 63  # the tightest common limit: S3 bucket names (DynamoDB 255, Lambda 64, SQS 80)
_started: dict[str, int] = {}
_running_offline: Lab | None = None


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug


class Lab:
    """Clients, unique names, tags, a clock, settle() and teardown() for one lab run."""

    def __init__(
        self,
        lab_name: str,
        backend: str | None = None,
        *,
        region: str | None = None,
        estimated_cost: Decimal | float | str | None = None,
    ):
        slug = _slug(lab_name)
        if not slug or not slug[0].isalpha() or len(slug) > 24:
            raise ValueError(
                f"lab name {lab_name!r} must start with a letter and have 1-24 letters, digits "
                "or hyphens, e.g. 'myblog'"
            )
        self.lab_name = slug
        self.backend_name = backends.choose(backend)
        self.region = region or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
        self._backend = backends.make(self.backend_name, self.region)
        self.offline = self._backend.offline
        self.clock = Clock(offline=self.offline, remote=None if self.offline else _stand_in_clock())
        self.run_id = self._make_run_id()
        self.prefix = f"{self.lab_name}-{self.run_id}"
        self.tags = {TAG_LAB: self.lab_name, TAG_RUN: self.run_id}
        self._clients: dict[tuple[str, str], BaseClient] = {}
        self._closed = False
        self._report: Any = None
        self.emulator: Any = None
        self._http_patches: list[tuple[Any, str, Any]] = []
        self.estimated_cost = estimated_cost
        from .teardown import Tracker

        # on a real account, a create call that returns a resource of yours must not tag it
        owned = None if self.offline else self.prefix
        self.tracker = Tracker(tags=self.tags, region=self.region, owned_prefix=owned)
        self._start()

    # ---- start -------------------------------------------------------------------------------
    def _make_run_id(self) -> str:
        if not self.offline:
            return uuid.uuid4().hex[:6]
        # offline names are stable, so committed notebook outputs do not churn
        n = _started.get(self.lab_name, 0)
        _started[self.lab_name] = n + 1
        return hashlib.sha1(f"{self.lab_name}:{n}".encode()).hexdigest()[:6]

    def _start(self) -> None:
        global _running_offline
        if self.offline and _running_offline is not None and not _running_offline._closed:
            previous = _running_offline
            print(f"Tearing down the previous offline lab {previous.prefix!r} first.")
            previous.teardown()
        self._backend.start()
        if self.offline:
            from moto.moto_api._internal import mock_random

            from .emulator import Emulator

            # moto draws its ids (API ids, distribution domains, message ids) from one seedable
            # generator: seeded by the run id, a notebook's committed outputs stay stable
            mock_random.seed(int(self.run_id, 16))

            self.emulator = Emulator(
                account_id=self._backend.account_id,
                endpoint_url=self._backend.handler_endpoint,
                clock=self.clock,
            )
            try:
                self.emulator.install()
            except Exception:
                self._backend.stop()
                raise
            _running_offline = self
        else:
            from . import runs

            self._announce()
            earlier = runs.warning(self.account_id, self.prefix)
            if earlier:
                print(earlier)
            runs.record(self.account_id, self.prefix, self.lab_name, self.region)
            self._route_http(backends.stand_in_http_endpoint())
        atexit.register(self._teardown_at_exit)
        _install_sigterm_handler()

    def _route_http(self, endpoint: str | None) -> None:
        """Send requests for AWS HTTP hosts (execute-api, cloudfront.net...) to `endpoint`, an
        account that is not AWS's own (a stand-in serving the lab's front), as boto3 honours
        AWS_ENDPOINT_URL."""
        if not endpoint:
            return
        from urllib.parse import urlsplit

        from .emulator.http import install_requests_route

        address = urlsplit(endpoint).netloc or endpoint
        install_requests_route(address, self._patch_http)

    def _patch_http(self, owner: Any, name: str, value: Any) -> None:
        self._http_patches.append((owner, name, getattr(owner, name)))
        setattr(owner, name, value)

    def _announce(self) -> None:
        cost = "not estimated" if self.estimated_cost is None else f"about ${self.estimated_cost}"
        print(
            f"Real AWS account {self.account_id} ({self._backend.caller_arn}), region {self.region}.\n"
            f"Every resource is named {self.prefix}-* and tagged {TAG_LAB}={self.lab_name}, "
            f"{TAG_RUN}={self.run_id}.\n"
            f"Estimated cost of this lab: {cost}. Everything is deleted by lab.teardown(), "
            "on exit, and by `labbook teardown --lab " + self.lab_name + "`."
        )

    # ---- what notebooks use ------------------------------------------------------------------
    @property
    def backend(self) -> str:
        return self.backend_name

    @property
    def account_id(self) -> str:
        return self._backend.account_id

    @property
    def endpoint_url(self) -> str | None:
        """The loopback URL of the moto-server backend (None for moto and aws)."""
        return self._backend.endpoint_url

    @property
    def http_endpoint(self) -> str | None:
        """Offline, the loopback address that serves API Gateway, CloudFront and S3 website
        requests (curl it with `-H 'Host: <the AWS host>'`); None on a real account."""
        if self.emulator is None:
            return None
        return f"http://{self.emulator.front.address}"

    @property
    def runtime(self) -> str:
        """The Lambda Python runtime for this lab's functions: offline, the runtime that matches
        this interpreter (the offline runtime runs functions with it); on AWS, python3.12."""
        if self._runs_functions_here:
            return f"python{sys.version_info.major}.{sys.version_info.minor}"
        return AWS_RUNTIME

    @property
    def _runs_functions_here(self) -> bool:
        """Offline, or an account that is an offline lab standing in for AWS: either way the
        functions run in the offline runtime, with this Python, on this machine."""
        return self.offline or bool(backends.stand_in_http_endpoint())

    def package(
        self, *paths: Any, handler: str | None = None, requirements: Any = (), **options: Any
    ) -> bytes:
        """helpers.package() for this lab's functions: built for `lab.runtime`, and offline from
        this environment's installed packages (no network)."""
        from .packaging import package

        options.setdefault("runtime", self.runtime)
        return package(
            *paths,
            handler=handler,
            requirements=requirements,
            local=self._runs_functions_here,
            **options,
        )

    def client(self, service: str, region: str | None = None) -> BaseClient:
        """A boto3 client for `service` in this lab's backend (and region, unless given)."""
        self._check_open()
        key = (service, region or self.region)
        if key not in self._clients:
            client = self._backend.client(service, key[1])
            self.tracker.attach(client)
            # presigned URLs carry their signing time in whole seconds: the lab clock keeps its
            # jumps out of a signature's second (Clock.signing)
            client.meta.events.register("before-sign", self._note_presigning)
            self._clients[key] = client
        return self._clients[key]

    def _note_presigning(self, signature_version: object = None, **_: object) -> None:
        if str(signature_version).endswith(("-query", "-presign-post")):  # a presigned URL
            self.clock.signing()

    def name(self, base: str, *, fifo: bool = False) -> str:
        """A unique resource name, valid for S3, DynamoDB, Lambda, SQS, SNS, IAM, Cognito..."""
        part = _slug(base)
        if not part:
            raise ValueError(
                f"name base {base!r} needs at least one letter or digit, e.g. 'photos'"
            )
        name = f"{self.prefix}-{part}"
        room = _NAME_MAX - (5 if fifo else 0)
        if len(name) > room:
            digest = hashlib.sha1(part.encode()).hexdigest()[:6]
            name = f"{name[: room - 7]}-{digest}"
        return name + (".fifo" if fifo else "")

    def settle(
        self,
        until: Callable[[], Any] | None = None,
        *,
        timeout: float = 60.0,
        max_wait: float = 6 * 3600,
        interval: float = 2.0,
    ) -> Any:
        """Wait as a learner would: offline, run every pending delivery until quiet (jumping the
        lab clock over retry delays, up to `max_wait` lab seconds); on AWS, poll `until()`.
        """
        self._check_open()
        if self.offline:
            report = self.emulator.settle(timeout=timeout, max_advance_s=max_wait)
            if until is None:
                return report
            # moto moves a resource through its states (creating → available) one describe
            # call at a time, as a poller would see it: ask a few times
            for _ in range(_OFFLINE_POLLS):
                value = until()
                if value:
                    return value
                report = self.emulator.settle(timeout=timeout, max_advance_s=max_wait)
            raise TimeoutError(f"settled, but the condition is still false ({report!r})")
        deadline = time.monotonic() + timeout
        while True:
            if until is None:
                self.clock.advance(min(interval * 3, timeout))
                return None
            value = until()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"waited {timeout:.0f} s on AWS and the condition is still false"
                )
            self.clock.advance(interval)

    def outbox(self, region: str | None = None) -> list[dict[str, Any]]:
        """Every email sent through SES in this lab (offline backends)."""
        if not self.offline:
            raise RuntimeError(
                "on a real account SES delivers the mail: use the mailbox simulator addresses "
                "(success@simulator.amazonses.com) and read delivery notifications instead"
            )
        from .emulator import mail

        return mail.outbox(self.account_id, region or self.region)

    # ---- teardown ----------------------------------------------------------------------------
    def teardown(self) -> Any:
        """Delete everything this lab created, check nothing is left, and report."""
        if self._report is not None:
            return self._report
        with _sigterm_deferred():  # a kernel shutting down must not cut a teardown short
            report = self._delete_everything()
        if self.offline or report.clean:
            self._report = report
            self._closed = True
            self._shutdown()
            if not self.offline:
                from . import runs

                runs.finish(self.account_id, self.prefix)
        # on AWS, a teardown that left something keeps the lab open: call teardown() again,
        # and the exit handler still runs
        return report

    def _delete_everything(self) -> Any:
        from .teardown import discover, teardown

        if self.offline:
            return teardown(self.tracker.resources, self._factory, wait=False)
        owned = {"owned_prefix": self.prefix, "run_tag": (TAG_RUN, self.run_id)}
        report = teardown(self.tracker.resources, self._factory, wait=True, **owned)
        # what the tracker never saw: made by handlers, by other clients, or by AWS for the lab
        regions = sorted({self.region, *(region for _, region in self._clients)})
        found = discover(
            self._factory,
            regions=regions,
            tag_key=TAG_RUN,
            tag_value=self.run_id,
            name_prefix=f"{self.prefix}-",
        )
        extra = [r for r in found if r not in report.deleted]
        if extra:
            more = teardown(extra, self._factory, wait=True, **owned)
            report.deleted.extend(more.deleted)
            report.left = [r for r in report.left if r not in more.deleted and r not in more.left]
            report.left.extend(more.left)
            report.errors.extend(more.errors)
        return report

    def _factory(self, service: str, region: str) -> BaseClient:
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = self._backend.client(service, region)
        return self._clients[key]

    def _shutdown(self) -> None:
        global _running_offline
        if self.emulator is not None:
            self.emulator.uninstall()
        for owner, name, original in reversed(self._http_patches):
            setattr(owner, name, original)
        self._http_patches.clear()
        self._backend.stop()
        if _running_offline is self:
            _running_offline = None
        atexit.unregister(self._teardown_at_exit)

    def _teardown_at_exit(self) -> None:
        if self._closed:
            return
        try:
            report = self.teardown()
            if not self.offline:
                print(report, file=sys.stderr)
        except BaseException as exc:  # at exit, say what failed rather than hide it
            print(
                f"labbook: teardown of {self.prefix} did not finish ({exc!r}); run "
                f"`labbook teardown --lab {self.lab_name}`",
                file=sys.stderr,
            )

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(
                f"lab {self.prefix} was torn down: start a new one with helpers.start({self.lab_name!r})"
            )

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.teardown()

    def __repr__(self) -> str:
        where = self.endpoint_url or (
            "in-process" if self.offline else f"account {self.account_id}"
        )
        return f"<Lab {self.prefix} backend={self.backend_name} ({where}) region={self.region}>"


def _stand_in_clock() -> Callable[[float], float | None] | None:
    """On an account reached through LABBOOK_HTTP_ENDPOINT_URL (an offline lab standing in for
    AWS), waiting moves that lab's clock instead of sleeping, and answers that clock's time;
    None for AWS itself."""
    endpoint = backends.stand_in_http_endpoint()
    if not endpoint:
        return None

    def advance(seconds: float) -> None:
        import requests

        resp = requests.post(
            f"{endpoint.rstrip('/')}/clock/advance",
            params={"seconds": seconds},
            headers={"Host": "control.labbook.localhost"},
            timeout=60,
        )
        resp.raise_for_status()
        return resp.json().get("now")

    return advance


@contextlib.contextmanager
def _sigterm_deferred() -> Iterator[None]:
    """Hold SIGTERM while a teardown runs (main thread only), then deliver it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        if received and callable(previous):
            previous(signal.SIGTERM, None)
        elif received and previous == signal.SIG_DFL:
            os.kill(os.getpid(), signal.SIGTERM)


def _install_sigterm_handler() -> None:
    """SIGTERM ends the process through SystemExit, so the exit teardown runs."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:

        def on_term(signum: int, frame: Any) -> None:
            raise SystemExit(128 + signum)

        signal.signal(signal.SIGTERM, on_term)
