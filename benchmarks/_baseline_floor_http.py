"""The floor of a REST function that calls Avito: the floor handler (``_baseline_floor``) plus ``requests`` with
PySocks, the Avito client's HTTP library (``requests.adapters`` loads ``urllib3.contrib.socks`` when PySocks is
there). A reference only: it shows what the HTTP library alone costs beside the floor, in the same run.
"""

import requests  # noqa: F401 - what the Avito client imports

from benchmarks._baseline_floor import app, lambda_handler  # noqa: F401
