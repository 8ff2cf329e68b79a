"""
Settings, sources, the command line and the package boundary.
"""

from __future__ import annotations

import ast
import datetime as dt
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from storemon.errors import ConfigError
from storemon_server.__main__ import build_parser, main
from storemon_server.config import Settings
from storemon_server.ingest import Sources, resolve_sources
from storemon_server.logs import kv, redact_url

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_are_safe() -> None:
    """By default the server binds 127.0.0.1:5000, refreshes hourly and needs no token."""
    settings = Settings.from_env({})
    assert (settings.host, settings.port) == ("127.0.0.1", 5000)
    assert settings.refresh_interval == 3600
    assert settings.api_token is None
    assert settings.db_url == "sqlite:///storemon.db"
    assert settings.retention is None  # every poll kept unless asked
    assert settings.keep_reports == 30 * 24 * 3600
    assert settings.max_push_bytes == 8 * 1024 * 1024
    assert settings.metrics_public is False


def test_environment_is_read_and_options_win() -> None:
    """STOREMON_* variables set the settings and explicit overrides beat them."""
    environ = {
        "STOREMON_DB": "memory://",
        "STOREMON_API_TOKEN": "t" * 20,
        "STOREMON_PORT": "8080",
        "STOREMON_REFRESH_INTERVAL": "2.5",
        "STOREMON_WORKERS": "3",
        "STOREMON_MAX_QUEUE": "0",
        "STOREMON_HOST": "",
        "STOREMON_RETENTION": "8w",
        "STOREMON_KEEP_REPORTS": "P7D",
        "STOREMON_MAX_PUSH_BYTES": "1024",
        "STOREMON_METRICS_PUBLIC": "yes",
    }
    settings = Settings.from_env(environ, port=9000, workers=None)
    assert settings.retention == 8 * 7 * 24 * 3600
    assert settings.keep_reports == 7 * 24 * 3600
    assert settings.db_url == "memory://"
    assert settings.api_token == "t" * 20
    assert settings.port == 9000
    assert settings.refresh_interval == 2.5
    assert settings.workers == 3
    assert settings.max_queue == 0
    assert settings.host == "127.0.0.1"
    assert settings.max_push_bytes == 1024
    assert settings.metrics_public is True
    assert "t" * 20 not in repr(settings)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"STOREMON_PORT": "eighty"}, "not a number"),
        ({"STOREMON_PORT": "70000"}, "port"),
        ({"STOREMON_REFRESH_INTERVAL": "0"}, "refresh interval"),
        ({"STOREMON_REFRESH_INTERVAL": "nan"}, "refresh interval"),
        ({"STOREMON_WORKERS": "0"}, "workers"),
        ({"STOREMON_MAX_QUEUE": "-1"}, "max queue"),
        ({"STOREMON_MAX_PUSH_BYTES": "0"}, "max push bytes"),
        ({"STOREMON_METRICS_PUBLIC": "maybe"}, "STOREMON_METRICS_PUBLIC"),
        ({"STOREMON_REPORT_SHARD_STORES": "0"}, "report shard stores must be at least 1"),
        ({"STOREMON_API_TOKEN": "short"}, "token"),
        ({"STOREMON_DB": "storemon.db"}, "not a URL"),
        ({"STOREMON_RETENTION": "8 weeks"}, "STOREMON_RETENTION: cannot read '8 weeks'"),
        ({"STOREMON_RETENTION": "0"}, "retention must be a positive duration"),
        ({"STOREMON_KEEP_REPORTS": "-1"}, "keep reports must be a positive duration"),
        ({"STOREMON_MAX_GAP": "2 hours"}, r"STOREMON_MAX_GAP: cannot read .*90m, 2h, 1h30m"),
        ({"STOREMON_MAX_GAP": "0h"}, "must be positive"),
        ({"STOREMON_MAX_GAP": "240001h"}, "at most 10000 days"),
    ],
)
def test_bad_settings_are_refused(environ: dict[str, str], message: str) -> None:
    """Invalid values raise ConfigError naming the problem."""
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(environ)


def test_data_dir_sources_use_the_usual_names(tmp_path: Path) -> None:
    """A data dir yields its status, hours and zones files; alternative names are found."""
    (tmp_path / "stores.csv").write_text("x")
    (tmp_path / "menu_hours.csv").write_text("x")
    sources = resolve_sources(Settings(data_dir=tmp_path))
    assert sources == Sources(str(tmp_path / "stores.csv"), str(tmp_path / "menu_hours.csv"))
    (tmp_path / "store_status.csv").write_text("x")
    (tmp_path / "timezones.csv").write_text("x")
    sources = resolve_sources(Settings(data_dir=tmp_path, hours_source="http://h/x.csv"))
    assert sources == Sources(
        str(tmp_path / "store_status.csv"), "http://h/x.csv", str(tmp_path / "timezones.csv")
    )
    assert not resolve_sources(Settings())


def test_max_gap_has_no_default_and_is_read_in_every_form() -> None:
    """Without --max-gap reports have no maximum gap; the variable takes the CLI's forms."""
    assert Settings.from_env({}).max_gap is None
    for text, expected in (
        ("90m", dt.timedelta(minutes=90)),
        ("2h", dt.timedelta(hours=2)),
        ("1h30m", dt.timedelta(minutes=90)),
        ("45s", dt.timedelta(seconds=45)),
        ("PT2H", dt.timedelta(hours=2)),
    ):
        assert Settings.from_env({"STOREMON_MAX_GAP": text}).max_gap == expected
    # The option wins over the variable.
    settings = Settings.from_env({"STOREMON_MAX_GAP": "2h"}, max_gap=dt.timedelta(hours=3))
    assert settings.max_gap == dt.timedelta(hours=3)


def test_bad_max_gap_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """storemon serve --max-gap with a bad duration exits 2 naming the forms."""
    assert main(["--db", "memory://", "--max-gap", "two hours"]) == 2
    err = capsys.readouterr().err
    assert "--max-gap" in err
    assert "90m, 2h, 1h30m, 45s, 30d, 8w or 1w2d, or ISO 8601 PT2H" in err


def test_data_dir_picks_up_special_hours_when_present(tmp_path: Path) -> None:
    """special_hours.csv in the data dir is a source; without it there is none."""
    (tmp_path / "store_status.csv").write_text("x")
    assert resolve_sources(Settings(data_dir=tmp_path)).special_hours is None
    (tmp_path / "special_hours.csv").write_text("x")
    sources = resolve_sources(Settings(data_dir=tmp_path))
    assert sources.special_hours == str(tmp_path / "special_hours.csv")
    named = resolve_sources(Settings(data_dir=tmp_path, special_hours_source="http://h/s.csv"))
    assert named.special_hours == "http://h/s.csv"


def test_data_dir_without_status_is_refused(tmp_path: Path) -> None:
    """A data dir without a status file, or that is no folder, is a ConfigError."""
    with pytest.raises(ConfigError, match=r"store_status\.csv"):
        resolve_sources(Settings(data_dir=tmp_path))
    with pytest.raises(ConfigError, match="not a folder"):
        resolve_sources(Settings(data_dir=tmp_path / "missing"))


def test_parser_knows_every_option() -> None:
    """storemon serve parses every documented option into settings fields."""
    args = build_parser().parse_args(
        shlex.split(
            "--db memory:// --data-dir d --status s --business-hours h --timezones z "
            "--host 0.0.0.0 --port 1 --refresh-interval 5 --api-token T --workers 4 "
            "--max-queue 7 --allow-shrink --future-tolerance 90m --max-line-bytes 4096 "
            "--body-timeout 2.5 --max-push-bytes 1000 --metrics-public "
            "--special-hours sp --max-gap 1h30m --retention 8w --keep-reports 30d "
            "--report-shard-stores 500"
        )
    )
    assert vars(args) == {
        "db_url": "memory://",
        "data_dir": Path("d"),
        "status_source": "s",
        "hours_source": "h",
        "zones_source": "z",
        "host": "0.0.0.0",
        "port": 1,
        "refresh_interval": 5.0,
        "api_token": "T",
        "workers": 4,
        "max_queue": 7,
        "allow_shrink": True,
        "future_tolerance": 5400.0,
        "max_line_bytes": 4096,
        "body_timeout": 2.5,
        "retention": 8 * 7 * 24 * 3600.0,
        "keep_reports": 30 * 24 * 3600.0,
        "max_push_bytes": 1000,
        "metrics_public": True,
        "special_hours_source": "sp",
        "max_gap": dt.timedelta(hours=1, minutes=30),
        "report_shard_stores": 500,
        "log_level": "INFO",
    }


def test_bad_configuration_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A refused configuration exits 1 with one clear line, before binding anything."""
    assert main(["--db", "memory://", "--data-dir", str(tmp_path / "none")]) == 1
    assert "not a folder" in capsys.readouterr().err
    assert main(["--port", "nope"]) == 2
    assert main(["--retention", "8 weeks"]) == 2
    err = capsys.readouterr().err
    assert "argument --retention: duration: cannot read '8 weeks' as a duration" in err
    assert "30d, 8w" in err  # the accepted forms are named


def test_python_m_storemon_server_help() -> None:
    """python -m storemon_server --help lists the options and their variables."""
    result = subprocess.run(
        [sys.executable, "-m", "storemon_server", "--help"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert "--refresh-interval" in result.stdout
    assert "STOREMON_API_TOKEN" in result.stdout


def test_kv_quotes_values_that_need_it() -> None:
    """Log values with spaces, quotes or newlines are quoted so a line splits back."""
    line = kv("x", a=1, b="two words", c='q"uote', d=None, e=0.5)
    assert shlex.split(line) == ["event=x", "a=1", "b=two words", 'c=q"uote', "d=-", "e=0.500"]


def test_storemon_never_imports_the_server() -> None:
    """The library does not import storemon_server (the dependency points one way)."""
    for path in (ROOT / "storemon").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            # cli.py's serve command delegates at run time; that one import is allowed.
            if path.name != "cli.py":
                assert not any(name.startswith("storemon_server") for name in names), path


def test_logged_database_urls_hide_passwords() -> None:
    """A database URL is logged without its password."""
    assert redact_url("postgresql://me:pw@db:5432/x") == "postgresql://me:***@db:5432/x"
    assert redact_url("sqlite:///data/storemon.db") == "sqlite:///data/storemon.db"
