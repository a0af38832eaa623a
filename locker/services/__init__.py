"""The station's use cases. Each takes a :class:`locker.station.Station` and keyword arguments.

A use case that opens a door runs in three steps (design page): commit the intent, pulse
the lock and learn what happened, commit the outcome. Everything else is one transaction.
"""
