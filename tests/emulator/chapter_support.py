"""What the chapters' test suites share to read a chapter's own files in-process."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType


def load(name: str, path: Path, env: dict[str, str] | None = None) -> ModuleType:
    """Import a chapter file as module `name` (kept in sys.modules: dataclasses need it), with
    `env` set while it imports (a handler's boto3 clients are created, never called unless a
    test swaps them); the environment is restored afterwards."""
    saved = {k: os.environ.get(k) for k in env or {}}
    os.environ.update(env or {})
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None, path
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
