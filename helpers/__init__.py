"""The Serverless Architectures Lab Book: `start()` a lab, then speak real AWS with boto3."""

from __future__ import annotations

from decimal import Decimal

from .backends import BackendError
from .lab import Lab
from .packaging import package

__all__ = ["BackendError", "Lab", "package", "start"]


def start(
    lab_name: str,
    backend: str | None = None,
    *,
    region: str | None = None,
    estimated_cost: Decimal | float | str | None = None,
) -> Lab:
    """Start a lab on `backend` (moto, moto-server or aws; default LAB_BACKEND, else moto)."""
    return Lab(lab_name, backend, region=region, estimated_cost=estimated_cost)
