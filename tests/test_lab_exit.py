"""A lab is torn down when its process ends: normally, on SIGTERM, and on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

# A script that starts a lab on the aws backend (against moto's mock, opted in), creates a bucket,
# then ends the way the parameter says; the exit teardown prints its report to stderr.
SCRIPT = textwrap.dedent(
    """
    import os, signal, sys, time
    from moto import mock_aws
    mock_aws().start()
    import helpers
    lab = helpers.start("exiting", backend="aws")
    lab.client("s3").create_bucket(Bucket=lab.name("photos"))
    print(lab.name("photos"), flush=True)
    how = sys.argv[1]
    if how == "sigterm":
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
    elif how == "interrupt":
        raise KeyboardInterrupt
    elif how == "error":
        raise RuntimeError("a cell failed")
    """
)


@pytest.mark.parametrize("how", ["normal", "sigterm", "interrupt", "error"])
def test_real_account_lab_is_torn_down_when_the_process_ends(how):
    env = dict(os.environ, LABBOOK_ALLOW_AWS="1", LABBOOK_AWS_ACCOUNT_ID="123456789012")
    env.pop("LAB_BACKEND", None)
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, how], capture_output=True, text=True, env=env, timeout=120
    )
    bucket = result.stdout.strip().splitlines()[-1]  # after the account banner
    assert bucket.startswith("exiting-"), result.stderr
    # the exit teardown reports the bucket deleted and nothing left
    assert f"deleted  s3       bucket  {bucket}" in result.stderr, result.stderr
    assert "0 left, 0 errors" in result.stderr, result.stderr
    if how == "sigterm":
        assert result.returncode == 128 + signal.SIGTERM


def test_offline_lab_leaves_no_worker_process_after_exit(tmp_path):
    # GIVEN a process that invoked a function (so a worker process runs), then is terminated
    handler = tmp_path / "app.py"
    handler.write_text("def handler(event, context):\n    return 'ok'\n")
    script = textwrap.dedent(
        f"""
        import json, os, signal, time
        import helpers
        lab = helpers.start("exit-offline")
        iam, lambda_ = lab.client("iam"), lab.client("lambda")
        role = iam.create_role(RoleName=lab.name("r"), AssumeRolePolicyDocument="{{}}")["Role"]["Arn"]
        lambda_.create_function(FunctionName=lab.name("f"), Runtime="python3.12", Role=role,
            Handler="app.handler", Code={{"ZipFile": helpers.package({str(handler)!r})}})
        lambda_.invoke(FunctionName=lab.name("f"))
        print(",".join(str(e._proc.pid) for e in lab.emulator.runtime.environments()), flush=True)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    pids = [int(p) for p in result.stdout.strip().split(",") if p]
    assert pids, result.stderr
    # THEN no worker outlives it
    for pid in pids:
        alive = os.path.exists(f"/proc/{pid}") and "Z" not in _state(pid)
        assert not alive, f"worker {pid} still running after the lab's process ended"


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2]
    except OSError:
        return "Z"
