"""What moto only stores, made to behave like AWS (offline backends only)."""

from .core import Emulator

__all__ = ["Emulator"]
