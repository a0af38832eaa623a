"""The hub's settings: FLEET_* variables, and the workers' secret share group."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleet.settings import HubSettings


def test_the_share_group_is_made_once_per_data_dir_and_kept_private(tmp_path: Path) -> None:
    first = HubSettings(data_dir=tmp_path / "hub", _env_file=None).share_group()
    again = HubSettings(data_dir=tmp_path / "hub", _env_file=None).share_group()
    other = HubSettings(data_dir=tmp_path / "other", _env_file=None).share_group()
    assert first == again != other
    assert (tmp_path / "hub" / "share-group").stat().st_mode & 0o777 == 0o600


def test_a_given_share_group_wins_and_must_be_plain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLEET_MQTT_SHARE_GROUP", "hub-0123456789abcdef")
    monkeypatch.setenv("FLEET_DATA_DIR", str(tmp_path))
    settings = HubSettings(_env_file=None)
    assert settings.share_group() == "hub-0123456789abcdef"
    assert not (tmp_path / "share-group").exists()
    monkeypatch.setenv("FLEET_MQTT_SHARE_GROUP", "hub/#")
    with pytest.raises(ValueError, match="share group"):
        HubSettings(_env_file=None).share_group()
