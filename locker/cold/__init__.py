"""Cooled compartments: groups of chilled or frozen compartments, each watched by one
thermometer (``locker.sensors.Thermometer``).

- ``groups``  the layout's ``[[cold_group]]`` tables as checked values, and their bands
- ``band``    what a series of readings means over time (pure: no clock, no I/O)
- ``tables``  the rows: each group's state, and the readings of the last day
- ``history`` readings kept one per minute per group, pruned after a day; the chart's data
- ``watch``   the door watcher's part: read, decide, alert, close or reopen a group, tell
              the recipients of the parcels inside
- ``chart``   a small inline SVG of a group's last day, drawn on the server
"""
