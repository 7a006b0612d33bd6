"""A fake Avito API server (``https://api.avito.ru``) over real HTTP on loopback, for tests and demos."""

from .faults import Fault
from .server import AvitoSimulator, RecordedRequest

__all__ = ["AvitoSimulator", "Fault", "RecordedRequest"]
