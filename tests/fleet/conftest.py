"""The engine fixtures (tests/fleet/engines.py) for every test module under tests/fleet."""

from tests.fleet.engines import fleet_broker, mqtt, pg_database, pg_private, pg_server

__all__ = ["fleet_broker", "mqtt", "pg_database", "pg_private", "pg_server"]
