"""The base of every pydantic model in the service.

``defer_build=True``: a model's validator and serializer are built the first time it is used, not when its
module is imported. A function imports many models it never touches (a handler for one endpoint imports the
whole accounts model module), and building them all at import was the largest part of the cold start
(benchmarks/cold_start.py). Models a request does use are built on that first request, once per container.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    model_config = ConfigDict(defer_build=True)


class ApiModel(Model):
    """Base of request and response models: camelCase on the wire, unknown fields rejected."""

    model_config = ConfigDict(extra="forbid", populate_by_name=False)
