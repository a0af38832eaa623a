"""Cooled compartments: groups of chilled or frozen compartments, each watched by one
thermometer (``locker.sensors.Thermometer``).

- ``groups``  the layout's ``[[cold_group]]`` tables as checked values, and their bands
- ``band``    what a series of readings means over time (pure: no clock, no I/O)
- ``tables``  the rows: each group's state, and the readings of the last day
- ``history`` readings kept one row per minute per group, pruned after a day
- ``watch``   the door watcher's part: read, decide, alert, close or reopen a group, tell
              the recipients of the parcels inside, tell the hub
- ``refusal`` what a courier is told when no compartment of the parcel's kind is free
- ``views``   each group as the screens show it (the chart is ``common.cold_chart``)
"""
