"""A simulator of one RS485 bus of Kerong lock boards (CU16 or CU12), on a real serial line.

It owns the far end of a pty or a TCP socket, so the real driver (``drivers/``) is tested
exactly as it runs against hardware. See ``sim/README.md`` for the full description, the
decisions taken where ``lock-protocol.md`` is silent, and what the simulator does not model.

Public API (``sim.server``)::

    bus = SimBus(protocol="cu16", addresses=[0, 1], pulse_ms=550, ...)
    bus.close_door(0, 3); bus.put_item(0, 3); bus.lock_state(0, 3)
    bus.inject(Fault.STUCK_LATCH, board=0, lock=3)
    with serve_pty(bus) as path: ...            # pyserial: serial_for_url(path)
    with serve_tcp(bus) as url: ...             # "socket://127.0.0.1:PORT"

Modules: ``codec``/``codec_cu12`` (frames, written from the spec, not shared with the driver),
``stream`` (bounded resynchronising decoder), ``model`` (latches, doors, parcels),
``respond_cu16``/``respond_cu12`` (what a board does with each command), ``faults``,
``timing`` (wire time and pacing), ``bus`` (SimBus), ``server`` (pty/TCP), ``cli``.

What the simulator does not model (details in ``sim/README.md``): electrical RS485 effects
(collisions when two talkers overlap, echo, line noise other than injected faults, bit-level
framing errors, wrong-baud garbage), real flash wear or power loss, the doors' mechanics
beyond latched / ajar / shut (no "held shut during the pulse", no "pushed to without catching"),
the CU12 push-door mode, OTA / version frames of the CU16 (section 1.8), and any timing of the
real boards beyond the byte time and one fixed processing delay.
"""
