"""Request dependencies: the lifespan resources and the authenticated principal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from netra.auth.sessions import Principal, authenticate
from netra.errors import Unauthorized
from netra.resources import Resources


async def get_resources(request: Request) -> Resources:
    return request.app.state.resources  # type: ignore[no-any-return]


Res = Annotated[Resources, Depends(get_resources)]


def bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("a bearer access token is required")
    return token.strip()


async def get_principal(request: Request, resources: Res) -> Principal:
    token = bearer_token(request.headers.get("authorization"))
    return await authenticate(resources.db, resources.settings, token)


CurrentUser = Annotated[Principal, Depends(get_principal)]
