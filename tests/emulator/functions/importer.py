"""Imports the modules the event names and reports, for each, its version or the ImportError."""

import importlib


def handler(event, context):
    found = {}
    for name in event["modules"]:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            found[name] = f"{type(exc).__name__}: {exc}"
        else:
            found[name] = {"version": str(getattr(module, "__version__", ""))}
    return found
