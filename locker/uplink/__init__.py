"""The station's link to a fleet hub: the messages both sides speak (``messages``), the
events captured from the station's own transactions (``capture``), and the commands a hub
may send (``commands``). No MQTT library here: the client is an adapter outside ``locker``."""
