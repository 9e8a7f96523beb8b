"""Every course notebook also runs on the moto-server backend: AWS reached only over HTTP.

nbval checks the committed outputs on the default `moto` backend; this runs the same notebooks
with LAB_BACKEND=moto-server, where the notebook's boto3 clients and the handlers' own calls go
over loopback HTTP as they would to a real account.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from tests.labs.support import every_notebook, run_folder

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = every_notebook()


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_on_moto_server(path, monkeypatch, tmp_path):
    monkeypatch.setenv("LAB_BACKEND", "moto-server")
    nb = nbformat.read(path, as_version=4)
    folder = run_folder(path, tmp_path)
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    )
    try:
        client.execute(env=dict(os.environ))
    except CellExecutionError as exc:
        pytest.fail(f"{path.relative_to(ROOT)} failed on moto-server:\n{exc}")
    lab_cells = [c for c in nb.cells if c.cell_type == "code" and "helpers.start(" in c.source]
    assert lab_cells, "the notebook starts no lab"
    outputs = "".join(str(o) for c in lab_cells for o in c.outputs)
    assert "backend=moto-server" in outputs, "the lab did not run on moto-server"
