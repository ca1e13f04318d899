"""Auth endpoints: register, login, refresh, logout, me."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from netra.api.deps import CurrentUser, Res
from netra.auth import sessions
from netra.errors import NotFound, Unauthorized
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
    refresh_token: Annotated[StrictStr, Field(max_length=512)]


@router.post("/register", status_code=201)
async def register(body: RegisterBody, resources: Res) -> dict[str, Any]:
    return await sessions.register(
        resources.db, resources.settings, body.email, body.password, body.name
    )


@router.post("/login")
async def login(body: LoginBody, resources: Res) -> dict[str, Any]:
    return await sessions.login(resources.db, resources.settings, body.email, body.password)


@router.post("/refresh")
async def refresh(body: RefreshBody, resources: Res) -> dict[str, Any]:
    return await sessions.refresh(resources.db, resources.settings, body.refresh_token)


@router.post("/logout", status_code=204)
async def logout(principal: CurrentUser, resources: Res) -> Response:
    await sessions.logout(resources.db, principal.session_id)
    # Every server holding a socket of this session closes it with 4401.
    await resources.bus.publish(
        principal.user_id, Delivery(type="session_revoked", body=principal.session_id)
    )
    return Response(status_code=204)


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
    return await resources.db.read(lambda conn: sessions.user_json(conn, principal.user_id))
