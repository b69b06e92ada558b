"""Access: loopback by default, a token for anything else, sent as a bearer token or the login
form's HttpOnly cookie, compared in constant time."""

from __future__ import annotations

import hmac
from pathlib import Path

import aiohttp
import pytest

from aexy_stream.cli.main import main
from aexy_stream.dashboard import access
from aexy_stream.dashboard.board import Board
from aexy_stream.dashboard.config import DashboardConfig
from schemas.types import AnalysisType as T
from tests.dashboard import samples as s
from tests.dashboard.conftest import feed, served

TOKEN = "a-long-random-dashboard-token-0123456789"


def test_any_bind_but_loopback_needs_a_token() -> None:
    DashboardConfig().check()
    DashboardConfig(host="::1").check()
    with pytest.raises(ValueError, match="DASHBOARD_TOKEN"):
        DashboardConfig(host="0.0.0.0").check()
    DashboardConfig(host="0.0.0.0", token=TOKEN).check()
    assert TOKEN not in repr(DashboardConfig(token=TOKEN))


def test_the_command_refuses_to_bind_openly_without_a_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.delenv("DASHBOARD_TOKEN", raising=False)
    assert main(["dashboard", "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("aexy-stream: the dashboard binds to 0.0.0.0, not loopback: set DASHBOARD_TOKEN")


async def test_without_the_token_nothing_is_shown() -> None:
    board = Board(DashboardConfig(token=TOKEN))
    feed(board, s.value(T.ATTRITION_RISK, "mona", s.attrition(0.9)))
    async with served(board) as url, aiohttp.ClientSession() as http:
        for path in ("/api/state", "/api/events", "/api/export.csv"):
            refused = await http.get(f"{url}{path}")
            assert refused.status == 401, path
            assert "mona" not in await refused.text()
            assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        page = await http.get(f"{url}/", allow_redirects=False)
        assert (page.status, page.headers["Location"]) == (303, "/login")
        wrong = await http.get(f"{url}/api/state", headers={"Authorization": "Bearer not-it"})
        assert wrong.status == 401
        forged = await http.get(
            f"{url}/api/state", cookies={access.COOKIE: TOKEN}
        )  # the token is not a session
        assert forged.status == 401
        assert (await http.get(f"{url}/healthz")).status == 200  # probes stay open, and say nothing


async def test_a_bearer_token_is_accepted_and_compared_in_constant_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(access.hmac, "compare_digest", spy)
    board = Board(DashboardConfig(token=TOKEN))
    feed(board, s.value(T.ATTRITION_RISK, "mona", s.attrition(0.9)))
    async with served(board) as url, aiohttp.ClientSession() as http:
        response = await http.get(f"{url}/api/state", headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status == 200
        assert (await response.json())["people"][0]["subject"] == "mona"
    assert (TOKEN.encode(), TOKEN.encode()) in compared


async def test_the_login_form_sets_an_httponly_cookie_that_opens_the_page() -> None:
    board = Board(DashboardConfig(token=TOKEN))
    feed(board, s.value(T.ATTRITION_RISK, "mona", s.attrition(0.9)))
    jar = aiohttp.CookieJar(unsafe=True)  # the server is an IP address
    async with served(board) as url, aiohttp.ClientSession(cookie_jar=jar) as http:
        form = await http.get(f"{url}/login")
        assert form.status == 200 and 'name="token"' in await form.text()
        wrong = await http.post(f"{url}/login", data={"token": "guess"}, allow_redirects=False)
        assert wrong.status == 401 and "not the dashboard's" in await wrong.text()
        assert "Set-Cookie" not in wrong.headers
        signed_in = await http.post(f"{url}/login", data={"token": TOKEN}, allow_redirects=False)
        assert (signed_in.status, signed_in.headers["Location"]) == (303, "/")
        cookie = signed_in.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and TOKEN not in cookie
        page = await http.get(f"{url}/")  # the session keeps the cookie
        assert page.status == 200 and "app.js" in await page.text()
        assert (await http.get(f"{url}/api/state")).status == 200
        await http.post(f"{url}/logout")
        assert (await http.get(f"{url}/api/state")).status == 401


async def test_without_a_token_only_requests_addressed_to_loopback_are_answered() -> None:
    """A page whose domain is rebound to 127.0.0.1 (DNS rebinding) sends its own name as Host."""
    board = Board(DashboardConfig())
    feed(board, s.value(T.ATTRITION_RISK, "mona", s.attrition(0.9)))
    async with served(board) as url, aiohttp.ClientSession() as http:
        port = url.rsplit(":", 1)[1]
        rebound = await http.get(f"{url}/api/state", headers={"Host": f"evil.example:{port}"})
        assert rebound.status == 421
        assert "mona" not in await rebound.text()
        for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}", "localhost"):
            answered = await http.get(f"{url}/api/state", headers={"Host": host})
            assert answered.status == 200, host
            assert "mona" in await answered.text()
