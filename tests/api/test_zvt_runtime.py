"""The card terminal in a running station: ``LOCKER_ZVT_HOST=sim`` starts the terminal
simulator on loopback and points the real ZVT client at it (the demo does so by itself);
a station without a host has no terminal; `locker serve --demo` says where it is."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from pydantic import ValidationError

from api.runtime import running_station
from drivers.zvt import ZvtTerminal, card_terminal
from locker.payments.terminal import TerminalOutcome
from locker.runtime.settings import Settings
from tests.api.test_locker_command import _start, _stop


def _settings(tmp_path: Path, **extra: object) -> Settings:
    return Settings(data_dir=tmp_path / "var", _env_file=None, **extra)  # type: ignore[call-arg]


def test_a_station_with_the_simulated_terminal_takes_a_payment(tmp_path: Path) -> None:
    with running_station(_settings(tmp_path, zvt_host="sim")) as runtime:
        assert runtime.zvt_sim is not None
        assert runtime.terminal_registered
        assert runtime.settings is not None
        assert runtime.settings.zvt_host == "127.0.0.1"
        assert runtime.settings.zvt_port != 20007  # a free port, not the terminal's own
        runtime.zvt_sim.times.card_s = runtime.zvt_sim.times.pin_s = 0
        runtime.zvt_sim.times.host_s = 0
        texts: list[str] = []
        assert runtime.terminal is not None
        result = runtime.terminal.authorise(450, texts.append)
        assert result.outcome is TerminalOutcome.APPROVED
        assert "Insert card" in texts
        assert runtime.zvt_sim.taken_cents() == 450
        port = runtime.settings.zvt_port
    with socket.socket() as probe:  # the simulator stopped with the station
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_no_host_no_terminal(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert card_terminal(settings) is None
    with running_station(settings) as runtime:
        assert runtime.terminal is None
        assert runtime.zvt_sim is None


def test_the_factory_builds_the_client_from_the_settings(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path, zvt_host="10.0.0.5", zvt_password="000123", zvt_payment_timeout_s=90
    )
    terminal = card_terminal(settings)
    assert isinstance(terminal, ZvtTerminal)
    assert (terminal.host, terminal.port) == ("10.0.0.5", 20007)
    assert terminal.timeouts.transaction_s == 90
    assert terminal.registration().encode().hex(" ").startswith("06 00 07 00 01 23")


@pytest.mark.parametrize("password", ["12345", "1234567", "12a456", "١٢٣٤٥٦"])
def test_the_password_is_six_digits(tmp_path: Path, password: str) -> None:
    with pytest.raises(ValidationError, match="6 digits"):
        _settings(tmp_path, zvt_host="10.0.0.5", zvt_password=password)


def test_a_terminal_needs_its_password(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="LOCKER_ZVT_PASSWORD"):
        _settings(tmp_path, zvt_host="10.0.0.5")


def test_the_password_does_not_show_in_the_settings(tmp_path: Path) -> None:
    settings = _settings(tmp_path, zvt_host="10.0.0.5", zvt_password="424242")
    assert "424242" not in repr(settings)


def test_the_demo_starts_a_simulated_terminal(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    process, lines = _start(tmp_path, port)
    out = _stop(process)
    shown = [line for line in lines if line.startswith("card terminal:")]
    assert len(shown) == 1, lines
    assert shown[0].startswith("card terminal: simulated (ZVT) at 127.0.0.1:")
    assert shown[0].endswith(", registered")
    assert "station stopped" in out


def test_the_terminal_is_set_by_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCKER_ZVT_HOST", "192.0.2.40")
    monkeypatch.setenv("LOCKER_ZVT_PORT", "20008")
    monkeypatch.setenv("LOCKER_ZVT_PASSWORD", "000000")
    settings = _settings(tmp_path)
    assert (settings.zvt_host, settings.zvt_port) == ("192.0.2.40", 20008)
    assert settings.zvt_password.get_secret_value() == "000000"
