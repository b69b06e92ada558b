"""Who may see the dashboard: these are judgments about people.

Without DASHBOARD_TOKEN the server binds to loopback only (`DashboardConfig.check`) and answers only
requests addressed to a loopback name (`Host: localhost`, `127.0.0.1` or `[::1]`, any port), so a web
page whose domain is rebound to 127.0.0.1 (DNS rebinding) cannot read it. With a token, every
request but the login form, the probes and the stylesheet must carry it, as `Authorization: Bearer
<token>` or as the session cookie the login form sets (HttpOnly, SameSite=Strict; its value is an
HMAC of the token, never the token). Both are compared in constant time (`hmac.compare_digest`).
"""

from __future__ import annotations

import hashlib
import hmac

from aiohttp import web
from aiohttp.typedefs import Handler
from yarl import URL

COOKIE = "aexy_dashboard"
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
OPEN_PATHS = frozenset({"/login", "/healthz", "/readyz", "/static/style.css"})
REALM = 'Bearer realm="aexy-stream dashboard"'


class Access:
    def __init__(self, token: str) -> None:
        self._token = token.encode()
        self._session = (
            hmac.new(self._token, b"aexy-stream dashboard session", hashlib.sha256).hexdigest().encode()
            if token
            else b""
        )

    @property
    def required(self) -> bool:
        return bool(self._token)

    def allows(self, request: web.Request) -> bool:
        if not self.required:
            return True
        scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and same(presented.strip(), self._token):
            return True
        cookie = request.cookies.get(COOKIE)
        return cookie is not None and same(cookie, self._session)

    def accepts(self, token: str) -> bool:
        return self.required and same(token, self._token)

    @property
    def session(self) -> str:
        return self._session.decode()

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not self.required and not addressed_to_loopback(request):
            raise web.HTTPMisdirectedRequest(text="this dashboard answers only at localhost or 127.0.0.1")
        if request.path in OPEN_PATHS or self.allows(request):
            return await handler(request)
        if request.path.startswith("/api/"):
            raise web.HTTPUnauthorized(
                text='{"error": "a token is needed: Authorization: Bearer <DASHBOARD_TOKEN>"}',
                content_type="application/json",
                headers={"WWW-Authenticate": REALM},
            )
        raise web.HTTPSeeOther("/login")


def addressed_to_loopback(request: web.Request) -> bool:
    """The Host header names a loopback address (any port)."""
    try:
        name = URL(f"http://{request.headers.get('Host', '')}").host
    except ValueError:
        return False
    return name in LOOPBACK_HOSTS


def same(presented: str, expected: bytes) -> bool:
    """Constant time in the content (only the length may show)."""
    return hmac.compare_digest(presented.encode(), expected)


def routes(access: Access) -> list[web.RouteDef]:
    async def form(_request: web.Request) -> web.StreamResponse:
        if not access.required:
            raise web.HTTPSeeOther("/")
        return _page("")

    async def login(request: web.Request) -> web.StreamResponse:
        if not access.required:
            raise web.HTTPSeeOther("/")
        posted = await request.post()
        token = posted.get("token")
        if not isinstance(token, str) or not access.accepts(token):
            return _page("That token is not the dashboard's.", status=401)
        response = _see("/")
        response.set_cookie(
            COOKIE, access.session, httponly=True, samesite="Strict", secure=request.secure, path="/"
        )
        return response

    async def logout(_request: web.Request) -> web.StreamResponse:
        response = _see("/login")
        response.del_cookie(COOKIE, path="/")
        return response

    return [web.get("/login", form), web.post("/login", login), web.post("/logout", logout)]


LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>aexy-stream dashboard: sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,"><link rel="stylesheet" href="/static/style.css"></head>
<body class="login"><form method="post" action="/login" class="card">
<h1>aexy-stream dashboard</h1>
<p>This page shows judgments about people. Enter the dashboard's token to see it.</p>
<label>Token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
<p class="error">{message}</p>
<button type="submit">Sign in</button>
</form></body></html>
"""


def _see(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def _page(message: str, status: int = 200) -> web.Response:
    return web.Response(text=LOGIN_PAGE.format(message=message), content_type="text/html", status=status)
