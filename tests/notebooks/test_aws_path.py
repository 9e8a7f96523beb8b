"""Every course notebook also runs on the `aws` backend, against a stand-in account.

No test may reach a real account, but the real-account path must not rot: the opt-in, the account
banner, waits (`lab.clock.advance`), polling `settle(until=...)`, the ownership-guarded teardown
and its sweep by run tag. Where the kernel would sleep on AWS, it moves the stand-in's lab clock
instead (through LABBOOK_HTTP_ENDPOINT_URL), so minutes of AWS waiting take no time. Here a separate process serves a lab on moto-server (with the
emulator, so handlers run) and the notebook's kernel reaches it as `aws`, through
AWS_ENDPOINT_URL (and its API Gateway and CloudFront hosts through LABBOOK_HTTP_ENDPOINT_URL),
over HTTP only, with a run record in a temporary LABBOOK_HOME.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from tests.labs.support import every_notebook, run_folder

ROOT = Path(__file__).resolve().parents[2]
# the chapters, and the labs' solutions: their checks must judge a real account as they judge moto
NOTEBOOKS = every_notebook()
ACCOUNT = """
import signal
import helpers
lab = helpers.start("stand-in-account", backend="moto-server")
print(lab.endpoint_url, lab.http_endpoint, flush=True)
signal.sigwait([signal.SIGTERM])
lab.teardown()
"""


@pytest.fixture(scope="module")
def account_url():
    proc = subprocess.Popen([sys.executable, "-c", ACCOUNT], stdout=subprocess.PIPE, text=True)
    try:
        urls = proc.stdout.readline().split()
        assert urls and urls[0].startswith("http://127.0.0.1:"), (
            "the stand-in account did not start"
        )
        yield urls
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_on_the_aws_backend(path, account_url, tmp_path):
    env = dict(
        os.environ,
        LAB_BACKEND="aws",
        LABBOOK_ALLOW_AWS="1",
        LABBOOK_AWS_ACCOUNT_ID="123456789012",
        LABBOOK_HOME=str(tmp_path),
        AWS_ENDPOINT_URL=account_url[0],
        LABBOOK_HTTP_ENDPOINT_URL=account_url[1],
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        MYBLOG_SENDER="blog@example.com",  # what chapter 1 asks a learner on AWS to set
    )
    folder = run_folder(path, tmp_path)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    )
    try:
        client.execute(env=env)
    except CellExecutionError as exc:
        pytest.fail(f"{path.relative_to(ROOT)} failed on the aws backend:\n{exc}")
    text = "".join(str(o) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "Real AWS account 123456789012" in text, "the account banner was not shown"
    # the teardown was clean, so the run record is gone
    assert not list(tmp_path.glob("runs/*/*.json")), "the run's record is still there"
