"""``alliance-score serve``: refuses unsafe binds, hands uvicorn the safe options."""

from __future__ import annotations

import contextlib
import io
import json
import runpy
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from alliance_score.cli import main
from alliance_score.server import openapi_text
from alliance_score.server.middleware import ACCESS_LOGGER, ERROR_LOGGER

TOKEN = "cli-test-token-0123456789"  # noqa: S105 - a test token


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, dict[str, Any]]]:
    """uvicorn.run replaced by a recorder; the environment cleaned of service settings."""
    for name in ("TOKEN", "MAX_BATCH", "MAX_BODY_BYTES", "CORS_ORIGINS"):
        monkeypatch.delenv(f"ALLIANCE_SCORE_{name}", raising=False)
    # set (and so restored after the test), because --insecure-no-auth writes it
    monkeypatch.setenv("ALLIANCE_SCORE_INSECURE_NO_AUTH", "false")
    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    return calls


def serve(*args: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["serve", *args])
    return code, err.getvalue()


def test_loopback_by_default_with_uvicorns_access_log_off(
    runs: list[tuple[Any, dict[str, Any]]],
) -> None:
    assert serve() == (0, "")
    (app, options) = runs[0]
    assert isinstance(app, FastAPI)
    assert (options["host"], options["port"]) == ("127.0.0.1", 8000)
    assert options["access_log"] is False
    assert options["server_header"] is False
    for name in (ACCESS_LOGGER, ERROR_LOGGER):
        logger = options["log_config"]["loggers"][name]
        assert logger["level"] == "INFO" and logger["handlers"]


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", "scoring.example"])  # noqa: S104
def test_other_addresses_need_a_token(runs: list[Any], host: str) -> None:
    code, err = serve("--host", host)
    assert code == 2
    assert "ALLIANCE_SCORE_TOKEN" in err and "--insecure-no-auth" in err
    assert runs == []


def test_a_token_or_the_insecure_flag_allows_other_addresses(
    runs: list[tuple[Any, dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALLIANCE_SCORE_TOKEN", TOKEN)
    assert serve("--host", "0.0.0.0")[0] == 0  # noqa: S104
    assert runs[-1][0].state.settings.token.get_secret_value() == TOKEN
    monkeypatch.delenv("ALLIANCE_SCORE_TOKEN")
    assert serve("--host", "0.0.0.0", "--insecure-no-auth")[0] == 0  # noqa: S104
    assert runs[-1][0].state.settings.insecure_no_auth is True


def test_several_workers_load_the_app_from_the_environment(
    runs: list[tuple[Any, dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALLIANCE_SCORE_MAX_BATCH", "9")
    assert serve("--workers", "2", "--port", "8123")[0] == 0
    app, options = runs[0]
    assert app == "alliance_score.server:app"
    assert (options["workers"], options["port"]) == (2, 8123)


def test_a_weak_token_stops_the_service_naming_the_variable(
    runs: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALLIANCE_SCORE_TOKEN", "short")
    code, err = serve()
    assert code == 2
    assert "ALLIANCE_SCORE_TOKEN: must have at least 16" in err
    assert "short" not in err.replace("ALLIANCE_SCORE_TOKEN", "")
    assert runs == []


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--port", "70000"], "--port"), (["--workers", "0"], "--workers")],
    ids=["port", "workers"],
)
def test_bad_numbers_are_usage_errors(runs: list[Any], args: list[str], message: str) -> None:
    code, err = serve(*args)
    assert code == 2 and message in err
    assert runs == []


def test_module_prints_the_openapi_document(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_module("alliance_score.server", run_name="__main__")
    printed = capsys.readouterr().out
    assert printed == openapi_text()
    assert json.loads(printed)["info"]["title"] == "alliance-score"


def test_without_the_server_extra_the_hint_names_it(
    runs: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if not installed
    code, err = serve()
    assert code == 2
    assert "pip install 'alliance-score[server]'" in err
    assert "uvicorn" in err
    assert runs == []
