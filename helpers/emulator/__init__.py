"""What moto only stores, made to behave like AWS (offline backends only)."""

from .core import Emulator, active

__all__ = ["Emulator", "active"]
