"""Auth endpoints: register, login, refresh, logout, me."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from netra.api.deps import CurrentUser, Res
from netra.auth import sessions
from netra.auth.attempts import Attempts
from netra.auth.passwords import check_new_password
from netra.config import Settings
from netra.db import users
from netra.errors import InvalidCredentials, InvalidInput, NotFound, Unauthorized
from netra.runtime.bus import Delivery

router = APIRouter(prefix="/api/auth", tags=["auth"])

Password = Annotated[StrictStr, Field(min_length=8, max_length=256)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterBody(_Body):
    email: Annotated[StrictStr, Field(max_length=320)]
    password: Password
    name: Annotated[StrictStr, Field(max_length=200)] | None = None


class LoginBody(_Body):
    email: Annotated[StrictStr, Field(max_length=320)]
    password: Annotated[StrictStr, Field(max_length=256)]


class RefreshBody(_Body):
    # Absent only in cookie mode (the page): the token then comes from the HttpOnly cookie.
    refresh_token: Annotated[StrictStr, Field(max_length=512)] | None = None


COOKIE = "netra_refresh"
COOKIE_PATH = "/api/auth"


def _cookie_mode(request: Request) -> bool:
    """The page asks for its refresh token in an HttpOnly cookie (docs/security.md).

    The custom header is also the CSRF guard: a cross-site form cannot send it.
    """
    return request.headers.get("x-netra-refresh", "").lower() == "cookie"


def _answer(
    request: Request, response: Response, pair: dict[str, Any], settings: Settings
) -> dict[str, Any]:
    response.headers["Cache-Control"] = "no-store"
    if not _cookie_mode(request):
        return pair
    response.set_cookie(
        COOKIE,
        pair["refresh_token"],
        max_age=settings.refresh_token_ttl_s,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https" or settings.env == "production",
    )
    return {key: value for key, value in pair.items() if key != "refresh_token"}


def _attempts(request: Request) -> Attempts:
    return request.app.state.attempts  # type: ignore[no-any-return]


async def _count_address(request: Request, settings: Settings) -> None:
    """Every login and registration counts against the client's address (docs/security.md)."""
    address = request.client.host if request.client else "unknown"
    await _attempts(request).take(
        f"address:{address}", settings.auth_attempts_per_address, settings.auth_window_s
    )


@router.post("/register", status_code=201)
async def register(
    body: RegisterBody, request: Request, response: Response, resources: Res
) -> dict[str, Any]:
    await _count_address(request, resources.settings)
    await check_new_password(body.password)
    pair = await sessions.register(
        resources.db, resources.settings, body.email, body.password, body.name
    )
    return _answer(request, response, pair, resources.settings)


@router.post("/login")
async def login(
    body: LoginBody, request: Request, response: Response, resources: Res
) -> dict[str, Any]:
    settings = resources.settings
    await _count_address(request, settings)
    attempts, window = _attempts(request), settings.auth_window_s
    account = f"account:{body.email.strip().lower()}"
    await attempts.check(account, settings.login_failures_per_account, window)
    try:
        pair = await sessions.login(resources.db, settings, body.email, body.password)
    except InvalidCredentials:
        if settings.login_failures_per_account:
            await attempts.add(account, window)
        raise
    return _answer(request, response, pair, resources.settings)


@router.post("/refresh")
async def refresh(
    body: RefreshBody, request: Request, response: Response, resources: Res
) -> dict[str, Any]:
    token = body.refresh_token
    if token is None and _cookie_mode(request):
        token = request.cookies.get(COOKIE)
    if token is None:
        if not _cookie_mode(request):
            raise InvalidInput("refresh_token: Field required", field="refresh_token")
        raise Unauthorized("no refresh token was presented")
    try:
        pair = await sessions.refresh(resources.db, resources.settings, token)
    except sessions.SessionRevoked as revoked:  # reuse: close that session's sockets too
        await resources.bus.publish(
            revoked.user_id, Delivery(type="session_revoked", body=revoked.session_id)
        )
        raise
    return _answer(request, response, pair, resources.settings)


@router.post("/logout", status_code=204)
async def logout(principal: CurrentUser, resources: Res) -> Response:
    await sessions.logout(resources.db, principal.session_id)
    # Every server holding a socket of this session closes it with 4401.
    await resources.bus.publish(
        principal.user_id, Delivery(type="session_revoked", body=principal.session_id)
    )
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")
    return response


# OpenID Connect login is a seam for now: no provider can be configured yet, so these
# routes say so instead of pretending (docs/security.md). Users already allow a null
# password hash, for accounts that only ever sign in through a provider.
@router.get("/oauth/{provider}/login")
@router.get("/oauth/{provider}/callback")
async def oauth_not_configured(provider: str) -> None:
    raise NotFound(f"no OAuth provider named {provider[:40]!r} is configured on this server")


class ExchangeBody(_Body):
    code: Annotated[StrictStr, Field(max_length=512)]


@router.post("/oauth/exchange")
async def oauth_exchange(body: ExchangeBody) -> None:
    raise Unauthorized("the code is not valid")


@router.get("/me")
async def me(principal: CurrentUser, resources: Res) -> dict[str, Any]:
    return await resources.db.read(lambda conn: users.user_json(conn, principal.user_id))
