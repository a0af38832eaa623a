"""The running broker's users and roles, changed through Mosquitto's dynamic-security plugin.

The plugin (:mod:`fleet.broker` writes its starting configuration) owns its file once the
broker runs, and takes changes as JSON commands published to ``$CONTROL/dynamic-security/v1``
by a client with its admin role (the hub's user); it answers on ``…/v1/response``. A change
takes effect at once, without a restart: a new station may connect the moment its
``createClient`` is answered, and a deleted client is thrown out by the broker.

Mosquitto 2.0's ``createClient`` takes a password in clear text only (it hashes it itself), so
a station is added here when its password is known: by ``locker hub station add``, which
prints it once. :func:`apply_broker_config` writes the files for a broker that is not running,
and for one that runs removes what the registry no longer has.
"""

from __future__ import annotations

import json
import queue
import ssl
import uuid
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from fleet import broker
from fleet.broker import BrokerConfigError, BrokerFiles, BrokerUser, TlsListener

RESPONSE_TOPIC = f"{broker.CONTROL_TOPIC}/response"
TIMEOUT_S = 10.0


class BrokerUnreachable(BrokerConfigError):
    """The broker did not take the control connection (down, or a wrong password)."""


class BrokerControl:
    """A short-lived admin connection to the plugin's control topic: ``with BrokerControl(…)
    as control: control.add_station(name, password)``."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        password: str,
        *,
        tls: ssl.SSLContext | None = None,
        timeout: float = TIMEOUT_S,
    ) -> None:
        self.timeout = timeout
        self._host, self._port = host, port
        self._answers: queue.Queue[dict[str, Any]] = queue.Queue()
        self._connack: queue.Queue[ReasonCode | None] = queue.Queue()
        self._subacks: queue.Queue[list[ReasonCode]] = queue.Queue()
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"hub-control-{uuid.uuid4().hex[:12]}",
            protocol=mqtt.MQTTv5,
            reconnect_on_failure=False,
        )
        client.username_pw_set(username, password)
        if tls is not None:
            client.tls_set_context(tls)
        client.on_connect = lambda _c, _u, _f, reason, _p: self._connack.put(reason)
        client.on_connect_fail = lambda _c, _u: self._connack.put(None)
        client.on_subscribe = lambda _c, _u, _m, reasons, _p: self._subacks.put(list(reasons))
        client.on_message = self._on_message
        self._client = client

    def _on_message(self, _client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            body = json.loads(msg.payload)
        except ValueError:
            return
        for answer in body.get("responses", []):
            self._answers.put(answer)

    def __enter__(self) -> BrokerControl:
        try:
            self._client.connect(self._host, self._port, keepalive=30)
        except OSError as exc:
            raise BrokerUnreachable(f"no broker on {self._host}:{self._port}: {exc}") from exc
        self._client.loop_start()
        try:
            reason = self._connack.get(timeout=self.timeout)
        except queue.Empty:
            reason = None
        if reason is None or reason.is_failure:
            self.close()
            raise BrokerUnreachable(f"the broker refused the hub's control login: {reason}")
        self._client.subscribe(RESPONSE_TOPIC, qos=1)
        try:
            codes = self._subacks.get(timeout=self.timeout)
        except queue.Empty:
            codes = []
        if not codes or codes[0].is_failure:
            self.close()
            raise BrokerConfigError(
                f"the hub's user may not use {RESPONSE_TOPIC} ({codes}): is the broker "
                "running the dynamic-security plugin with the generated configuration?"
            )
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def call(self, *commands: dict[str, Any], allow: Iterable[str] = ()) -> list[dict[str, Any]]:
        """Send ``commands`` in one message; their answers in order. An answer with an error
        not in ``allow`` (e.g. "Client not found" when removing) is a BrokerConfigError."""
        tags = [uuid.uuid4().hex for _ in commands]
        body = {
            "commands": [{**c, "correlationData": t} for c, t in zip(commands, tags, strict=True)]
        }
        info = self._client.publish(broker.CONTROL_TOPIC, json.dumps(body), qos=1)
        info.wait_for_publish(timeout=self.timeout)
        got: dict[str, dict[str, Any]] = {}
        while len(got) < len(tags):
            try:
                answer = self._answers.get(timeout=self.timeout)
            except queue.Empty:
                raise BrokerConfigError("the broker did not answer the control command") from None
            if answer.get("correlationData") in tags:
                got[answer["correlationData"]] = answer
        answers = [got[t] for t in tags]
        for command, answer in zip(commands, answers, strict=True):
            error = answer.get("error")
            if error and error not in allow:
                raise BrokerConfigError(f"{command['command']}: {error}")
        return answers

    def station_users(self) -> list[str]:
        """The broker users of stations (``st-…``) the broker has now."""
        [answer] = self.call({"command": "listClients", "verbose": False, "count": -1})
        names: list[str] = answer.get("data", {}).get("clients", [])
        return sorted(n for n in names if n.startswith(broker.STATION_PREFIX))

    def add_station(self, name: str, password: str) -> None:
        """Let station ``name`` in with ``password`` at once (its role written first). A
        station the broker has already gets the new password: its client is replaced, so a
        session under the old password is thrown out."""
        role = broker.station_role(name)
        username = broker.station_username(name)
        self.call(
            {"command": "deleteClient", "username": username},
            {"command": "deleteRole", "rolename": role["rolename"]},
            {"command": "createRole", **role},
            {
                "command": "createClient",
                "username": username,
                "password": password,
                "roles": [{"rolename": role["rolename"]}],
            },
            allow=("Client not found", "Role not found"),
        )

    def remove_station(self, name: str) -> None:
        """Throw station ``name`` out and forget it (its sessions cannot come back)."""
        username = broker.station_username(name)
        self.call(
            {"command": "deleteClient", "username": username},
            {"command": "deleteRole", "rolename": username},
            allow=("Client not found", "Role not found"),
        )


def apply_broker_config(
    folder: Path,
    stations: Iterable[BrokerUser],
    hub_password: str,
    *,
    port: int = 1883,
    bind: str = "127.0.0.1",
    persistence_location: Path | None = None,
    tls: TlsListener | None = None,
    pid_file: Path | None = None,
    owner: str | None = None,
    log_types: Iterable[str] = ("error", "warning", "notice", "information"),
    autosave_interval: int = 60,
) -> tuple[BrokerFiles, int | None]:
    """What ``locker hub broker-config`` does. With no broker running on ``folder``: write
    the files for these stations; returns ``(files, None)``. With one running (its pid file
    names a live ``mosquitto``) the plugin's file is the broker's own: nothing is written; the
    broker is asked through its control topic which stations it has, and those not given are
    removed (and thrown out). A station it lacks is a :class:`BrokerConfigError`: the
    registry keeps only hashes, which the control topic does not take (add it with ``locker
    hub station add``, or stop the broker, write the files again and start it). Returns
    ``(files, pid)``."""
    stations = list(stations)
    files = BrokerFiles(
        conf=folder / "mosquitto.conf",
        dynsec=folder / broker.DYNSEC_FILE,
        persistence=(persistence_location or folder / "persistence"),
        pid_file=pid_file or folder / "mosquitto.pid",
    )
    pid = broker.running_broker(files.pid_file)
    if pid is None:
        written = broker.write_broker_files(
            folder,
            stations,
            broker.hash_password(hub_password),
            port=port,
            bind=bind,
            persistence_location=persistence_location,
            tls=tls,
            pid_file=pid_file,
            owner=owner,
            log_types=log_types,
            autosave_interval=autosave_interval,
        )
        return written, None
    wanted = {user.username for user in stations}
    host = "127.0.0.1" if bind in ("0.0.0.0", "::", "") else bind  # noqa: S104 - a test
    with BrokerControl(host, port, broker.HUB_USER, hub_password) as control:
        present = set(control.station_users())
        missing = sorted(wanted - present)
        if missing:
            raise BrokerConfigError(
                f"the running broker lacks {', '.join(missing)}: add a station with "
                "`locker hub station add` (it gives the broker its password), or stop the "
                "broker, write the files again and start it"
            )
        for username in sorted(present - wanted):
            control.remove_station(username.removeprefix(broker.STATION_PREFIX))
    return files, pid
