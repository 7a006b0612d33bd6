"""Shared package of Avito Service: domain logic, data access and the Avito client.

Nothing here creates AWS clients or reads the environment at import time; see ``config``
and ``aws`` for the lazily built, cached objects.
"""

__version__ = "0.1.0"
