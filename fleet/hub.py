"""The hub as its routes and screens see it: the database, the settings, how a command is
published, and the clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from fleet.db import HubDatabase
from fleet.settings import HubSettings
from locker.uplink.messages import Command

Publish = Callable[[Command], None]
Clock = Callable[[], datetime]


class Hub:
    """What every request of the hub's API and screens works with."""

    def __init__(
        self, db: HubDatabase, settings: HubSettings, publish: Publish, clock: Clock
    ) -> None:
        self.db, self.settings, self.publish, self.clock = db, settings, publish, clock


def hub_of(request: Request) -> Hub:
    """The hub an application serves (``app.state.hub``)."""
    hub: Hub = request.app.state.hub
    return hub


HubDep = Annotated[Hub, Depends(hub_of)]
