"""The base of the API's models: each builds its validator and serializer on its first use,
not when its module is imported (issue 29, the small computer's budget).

FastAPI builds a pydantic adapter for every route's body and answer when the route is
made; pydantic defers both the model's and those adapters' building when the model's
config says ``defer_build``. A start then builds none of the ~70 models; the first request
that sends or answers one builds it (a few milliseconds, once), and the OpenAPI document
builds all of them when it is first asked for.

FastAPI silences pydantic's warning about the ``alias`` it puts on a route's body field
while it builds the adapter; built later, the same warning is silenced here.
"""

from __future__ import annotations

import warnings

from pydantic import BaseModel, ConfigDict
from pydantic.warnings import UnsupportedFieldAttributeWarning

warnings.filterwarnings("ignore", category=UnsupportedFieldAttributeWarning)


class Model(BaseModel):
    """A model of the API, built when first used."""

    model_config = ConfigDict(defer_build=True)
