"""The base of the station's tables: each builds its pydantic validator on its first use,
not when its module is imported (issue 29, the small computer's budget).

A table's rows are made, read and written through SQLAlchemy, which needs no pydantic
schema; building the 26 tables' validators was about a fifth of their import. A table
that is validated (``model_validate``) builds its validator then, once.
"""

from __future__ import annotations

from pydantic import ConfigDict
from sqlmodel import SQLModel


class Row(SQLModel):
    """A table's base (not a table itself): ``class Parcel(Row, table=True)``."""

    model_config = ConfigDict(defer_build=True)  # type: ignore[assignment]
