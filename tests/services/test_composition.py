"""Services are built once, by `app.build`, and everything else takes them from the `Services` it returns; only
`settings.py` reads the process environment."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from gatehouse.app import Services, build
from gatehouse.settings import Settings, SettingsError, store_settings

SRC = Path(__file__).resolve().parents[2] / "src" / "gatehouse"


def test_build_returns_one_typed_frozen_set_of_services() -> None:
    app = build(Settings(dev=True))
    try:
        services = app.services
        assert isinstance(services, Services)
        with pytest.raises(dataclasses.FrozenInstanceError):
            services.store = None  # type: ignore[misc]
        endpoint = services.endpoint
        assert endpoint.router is services.router and endpoint.authenticator is services.authenticator
        assert endpoint.recorder is services.recorder
        assert services.sts in services.sts_handlers
        assert services.account_security.store is services.store
        assert (app.store, app.box, app.clock, app.settings) == (services.store, services.box, services.clock,
                                                                 services.settings)
    finally:
        app.close()


def test_only_settings_reads_the_environment() -> None:
    readers = re.compile(r"os\.environ|os\.getenv|getenv\(")
    found = [str(path.relative_to(SRC)) for path in SRC.rglob("*.py")
             if path.name != "settings.py" and readers.search(path.read_text())]
    assert found == []


def test_operator_commands_read_the_lockout_defaults_from_settings(monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Path) -> None:
    monkeypatch.setenv("GATEHOUSE_LOCKOUT_THRESHOLD", "7")
    monkeypatch.setenv("GATEHOUSE_MASTER_KEY", "x" * 44)
    settings = store_settings(tmp_path, None, None)
    assert settings.lockout_threshold == 7 and settings.master_key is not None
    assert "x" * 44 not in repr(settings)
    monkeypatch.setenv("GATEHOUSE_LOCKOUT_WINDOW", "soon")
    with pytest.raises(SettingsError):
        store_settings(tmp_path, None, None)
