"""Benchmarks of the offline Lambda runtime and of the notebooks (see README.md here)."""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HANDLER = """
import json
def handler(event, context):
    return {"echo": event, "n": len(json.dumps(event))}
"""
EVENT = {
    "Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": "b"}, "object": {"key": "k"}}}]
}


def _spec(code: bytes, name: str = "bench"):
    from helpers.emulator.lambda_runtime import FunctionSpec

    return FunctionSpec(
        name=name,
        arn=f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        version="$LATEST",
        handler="app.handler",
        runtime="python3.12",
        memory_mb=128,
        timeout_s=10,
        environment={},
        code=code,
        region="us-east-1",
        account_id="123456789012",
    )


def bench_runtime(rounds: int) -> list[tuple[str, str, str]]:
    """Warm overhead (ms) and cold-start ratio."""
    from helpers.emulator.lambda_runtime import LambdaRuntime
    from helpers.packaging import package

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        app = Path(tmp, "app.py")
        app.write_text(HANDLER)
        code = package(app, handler="app.handler")
        spec = importlib.util.spec_from_file_location("bench_app", app)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        payload = json.dumps(EVENT).encode()

        direct = []
        for _ in range(rounds * 10):
            t = time.perf_counter()
            json.dumps(module.handler(json.loads(payload), None)).encode()
            direct.append((time.perf_counter() - t) * 1000)

        runtime = LambdaRuntime(endpoint_url="http://127.0.0.1:9")
        try:
            runtime.invoke(_spec(code), payload)  # warm it up
            warm = []
            for _ in range(rounds * 10):
                t = time.perf_counter()
                runtime.invoke(_spec(code), payload)
                warm.append((time.perf_counter() - t) * 1000)
            cold = []
            for i in range(rounds):
                t = time.perf_counter()
                runtime.invoke(_spec(code, name=f"cold{i}"), payload)
                cold.append((time.perf_counter() - t) * 1000)
        finally:
            runtime.shutdown()

        by_hand = []
        for _ in range(rounds):
            t = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "import sys; sys.path.insert(0, sys.argv[1]); "
                    "import awslambdaric.bootstrap, app",
                    tmp,
                ],
                check=True,
            )
            by_hand.append((time.perf_counter() - t) * 1000)

    d, w = statistics.median(direct), statistics.median(warm)
    c, h = statistics.median(cold), statistics.median(by_hand)
    rows.append(
        (
            "warm invocation overhead",
            f"{w - d:.2f} ms (warm {w:.2f} ms, direct call {d:.3f} ms)",
            "≤ 2 ms",
        )
    )
    rows.append(("cold start", f"{c / h:.2f}× (cold {c:.0f} ms, by hand {h:.0f} ms)", "≤ 1.5×"))
    return rows


def bench_notebooks() -> list[tuple[str, str, str]]:
    """Wall time of each notebook on the moto backend."""
    import nbformat
    from nbclient import NotebookClient

    rows = []
    for path in sorted(ROOT.glob("notebooks/*/*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        t = time.perf_counter()
        NotebookClient(
            nb, timeout=600, resources={"metadata": {"path": str(path.parent)}}
        ).execute()
        rows.append((f"notebook {path.name}", f"{time.perf_counter() - t:.1f} s", "reported"))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("groups", nargs="*", help="runtime and/or notebooks (default: both)")
    parser.add_argument("--rounds", type=int, default=10, help="cold starts to time (x10 warm)")
    args = parser.parse_args()
    args.groups = args.groups or ["runtime", "notebooks"]
    unknown = set(args.groups) - {"runtime", "notebooks"}
    if unknown:
        parser.error(f"unknown group(s) {sorted(unknown)}: choose runtime and/or notebooks")
    rows = []
    if "runtime" in args.groups:
        rows += bench_runtime(args.rounds)
    if "notebooks" in args.groups:
        rows += bench_notebooks()
    width = max(len(r[0]) for r in rows)
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:<60}  target {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
