"""The hub's fixtures, beside the engines' (tests/fleet/conftest.py)."""

from tests.fleet.hub.support import hub_db, station_a

__all__ = ["hub_db", "station_a"]
