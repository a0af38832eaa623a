"""The fleet hub: many stations report to it over an MQTT 5 broker; it keeps what they
report in PostgreSQL and gives operators an HTTP API over it.

It imports nothing from ``api/``; the messages it speaks are :mod:`locker.uplink.messages`.
"""
