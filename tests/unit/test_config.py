"""Settings come from defaults < TOML file < environment < flags."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pageturn.config import load_settings, parse_duration, parse_size

ROOT = Path(__file__).resolve().parents[2]


def test_durations_and_sizes():
    assert parse_duration("20m") == 1200 and parse_duration("1d") == 86400 and parse_duration("250ms") == 0.25
    assert parse_duration(90) == 90
    assert parse_size("512M") == 512 << 20 and parse_size("100k") == 102400 and parse_size("2G") == 2 << 30
    with pytest.raises(ValueError):
        parse_duration("soon")
    with pytest.raises(ValueError):
        parse_size("big")


def test_precedence_file_env_flags(tmp_path):
    config = tmp_path / "pageturn.toml"
    config.write_text('port = 19000\nsession_lifetime = "5m"\nhost = "127.0.0.2"\nzoho_api_keys = ["a", "b"]\n')
    settings = load_settings(config, {}, environ={})
    assert (settings.port, settings.session_lifetime, settings.host) == (19000, 300, "127.0.0.2")
    assert settings.zoho_api_keys == ["a", "b"]
    settings = load_settings(config, {}, environ={"PAGETURN_PORT": "19001", "PAGETURN_ZOHO_API_KEYS": "x, y"})
    assert settings.port == 19001 and settings.zoho_api_keys == ["x", "y"]
    settings = load_settings(config, {"port": "19002"}, environ={"PAGETURN_PORT": "19001"})
    assert settings.port == 19002 and settings.session_lifetime == 300


def test_unknown_setting_in_file_is_refused(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text("prot = 1\n")
    with pytest.raises(ValueError, match="prot"):
        load_settings(config, {}, environ={})


def test_help_lists_every_setting_with_its_variable():
    out = subprocess.run([str(ROOT / ".venv/bin/pageturn"), "serve", "--help"], capture_output=True, text=True,
                         check=True).stdout
    for name in ("--data-dir", "PAGETURN_DATA_DIR", "--session-lifetime", "PAGETURN_SESSION_LIFETIME",
                 "--max-upload-size", "--office-timeout", "--zoho-api-keys"):
        assert name in out
    bad = subprocess.run([str(ROOT / ".venv/bin/pageturn"), "serve", "--port", "x"], capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
