"""Auth: refresh rotation and reuse detection, logout everywhere at once, bad tokens refused."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from tests.e2e.checks import check_error_body
from tests.e2e.clients import (
    assert_ws_refused,
    close_code,
    connected,
    fresh_claims,
    open_header_ws,
    ping_drain,
    server_key,
    sign,
    unsigned,
)
from tests.support import PASSWORD, Account, ServerProcess, open_ws, recv, register

TOKEN_PAIR_KEYS = {"user", "access_token", "refresh_token", "token_type", "expires_in"}


async def _me(http: httpx.AsyncClient, token: str) -> httpx.Response:
    return await http.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})


async def _refresh(http: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await http.post("/api/auth/refresh", json={"refresh_token": refresh_token})


async def _login(http: httpx.AsyncClient, account: Account) -> dict[str, Any]:
    response = await http.post(
        "/api/auth/login", json={"email": account.email, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _refused(response: httpx.Response, code: str = "unauthorized") -> None:
    assert response.status_code == 401, f"{response.status_code}: {response.text}"
    check_error_body(response.json(), code)


async def test_refresh_rotates_and_the_old_refresh_token_is_refused_after_use(
    http: httpx.AsyncClient,
) -> None:
    account = await register(http, "rotate")
    response = await _refresh(http, account.refresh_token)
    assert response.status_code == 200, response.text
    pair = response.json()
    assert set(pair) == TOKEN_PAIR_KEYS and pair["token_type"] == "bearer", pair
    assert pair["user"]["id"] == account.user_id
    assert pair["refresh_token"] != account.refresh_token
    assert pair["access_token"] != account.access_token
    assert isinstance(pair["expires_in"], int) and pair["expires_in"] > 0
    assert (await _me(http, pair["access_token"])).status_code == 200

    _refused(await _refresh(http, account.refresh_token))


async def test_reusing_a_refresh_token_revokes_the_whole_session_and_only_that_session(
    http: httpx.AsyncClient,
) -> None:
    account = await register(http, "reuse")
    other_session = await _login(http, account)
    newest = (await _refresh(http, account.refresh_token)).json()
    assert (await _me(http, newest["access_token"])).status_code == 200

    _refused(await _refresh(http, account.refresh_token))  # reuse: the session is revoked

    _refused(await _refresh(http, newest["refresh_token"]))
    _refused(await _me(http, newest["access_token"]))
    _refused(await _me(http, account.access_token))
    # Another login of the same user is another session: untouched.
    assert (await _me(http, other_session["access_token"])).status_code == 200
    assert (await _refresh(http, other_session["refresh_token"])).status_code == 200


async def test_logout_refuses_the_tokens_at_once_and_closes_open_sockets_with_4401(
    server: ServerProcess, http: httpx.AsyncClient
) -> None:
    account = await register(http, "logout")
    other = await _login(http, account)
    ws = await connected(server.ws_url, account)
    header_ws = await open_header_ws(server.ws_url, account.access_token)
    assert (await recv(header_ws))["type"] == "connection_established"
    other_ws = await open_ws(server.ws_url, other["access_token"])
    assert (await recv(other_ws))["type"] == "connection_established"
    try:
        response = await http.post("/api/auth/logout", headers=account.headers)
        assert response.status_code == 204, response.text
        assert response.content == b""
        _refused(await _me(http, account.access_token))
        _refused(await _refresh(http, account.refresh_token))

        for socket in (ws, header_ws):
            code, received = await close_code(socket, wait_s=5)
            assert code == 4401, f"the open socket closed with {code}, expected 4401"
            assert received == [], f"messages before the 4401 close: {received}"
        await assert_ws_refused(
            server.ws_url, subprotocols=["netra.v1", f"bearer.{account.access_token}"]
        )
        # The user's other session is not logged out.
        assert await ping_drain(other_ws) == []
        assert (await _me(http, other["access_token"])).status_code == 200
    finally:
        for socket in (ws, header_ws, other_ws):
            await socket.close()


def _bad_tokens(account: Account, key: bytes) -> dict[str, str]:
    now = int(time.time())
    good = account.access_token
    return {
        "missing": "",
        "garbage": "not-a-jwt",
        "truncated": good[: len(good) // 2],
        "other_key": sign(fresh_claims(good), b"another key, not the server's one" * 2),
        "expired": sign(fresh_claims(good, iat=now - 3600, exp=now - 60), key),
        "alg_none": unsigned(fresh_claims(good)),
        "hs512_same_key": sign(fresh_claims(good), key, "HS512"),
        "wrong_audience": sign(fresh_claims(good, aud="another-api"), key),
        "no_audience": sign({k: v for k, v in fresh_claims(good).items() if k != "aud"}, key),
        "wrong_issuer": sign(fresh_claims(good, iss="someone-else"), key),
        "unknown_session": sign(fresh_claims(good, sid="no-such-session"), key),
    }


async def test_a_token_signed_with_the_server_key_and_valid_claims_is_accepted(
    server: ServerProcess, http: httpx.AsyncClient
) -> None:
    """The control for the refusals below: our signing matches the server's."""
    account = await register(http, "control")
    token = sign(fresh_claims(account.access_token), server_key(server.data_dir))
    assert (await _me(http, token)).status_code == 200
    async with await open_ws(server.ws_url, token) as ws:
        assert (await recv(ws))["type"] == "connection_established"


BAD_TOKEN_KINDS = [
    "missing",
    "garbage",
    "truncated",
    "other_key",
    "expired",
    "alg_none",
    "hs512_same_key",
    "wrong_audience",
    "no_audience",
    "wrong_issuer",
    "unknown_session",
]


@pytest.mark.parametrize("kind", BAD_TOKEN_KINDS)
async def test_a_bad_access_token_is_refused_on_http_and_on_the_websocket(
    server: ServerProcess, http: httpx.AsyncClient, kind: str
) -> None:
    account = await register(http, "badtoken")
    token = _bad_tokens(account, server_key(server.data_dir))[kind]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    for method, path in [
        ("GET", "/api/auth/me"),
        ("GET", "/api/threads"),
        ("POST", "/api/threads"),
        ("GET", "/api/datasets"),
        ("POST", "/api/auth/logout"),
    ]:
        response = await http.request(method, path, headers=headers)
        assert response.status_code == 401, f"{method} {path} with {kind}: {response.text}"
        check_error_body(response.json(), "unauthorized")

    if token:
        await assert_ws_refused(server.ws_url, subprotocols=["netra.v1", f"bearer.{token}"])
        await assert_ws_refused(
            server.ws_url, additional_headers={"Authorization": f"Bearer {token}"}
        )
    else:
        await assert_ws_refused(server.ws_url, subprotocols=["netra.v1"])
        await assert_ws_refused(server.ws_url)
    # The real token still works: the refusals were about the bad tokens.
    assert (await _me(http, account.access_token)).status_code == 200


async def test_wrong_password_and_unknown_email_get_the_same_invalid_credentials_answer(
    http: httpx.AsyncClient,
) -> None:
    account = await register(http, "login")
    wrong_password = await http.post(
        "/api/auth/login", json={"email": account.email, "password": "wrong password!"}
    )
    unknown_email = await http.post(
        "/api/auth/login", json={"email": "nobody-" + account.email, "password": PASSWORD}
    )
    for response in (wrong_password, unknown_email):
        _refused(response, "invalid_credentials")
    assert wrong_password.json() == unknown_email.json()
    assert (await _login(http, account))["user"]["id"] == account.user_id


async def test_register_twice_with_one_email_is_refused_with_email_taken(
    http: httpx.AsyncClient,
) -> None:
    account = await register(http, "twice")
    response = await http.post(
        "/api/auth/register", json={"email": account.email.upper(), "password": PASSWORD}
    )
    assert response.status_code == 409, response.text
    check_error_body(response.json(), "email_taken")


async def test_an_open_socket_is_closed_with_4401_when_its_access_token_expires(
    server: ServerProcess, http: httpx.AsyncClient
) -> None:
    account = await register(http, "expiring")
    now = int(time.time())
    token = sign(fresh_claims(account.access_token, exp=now + 2), server_key(server.data_dir))
    async with await open_ws(server.ws_url, token) as ws:
        assert (await recv(ws))["type"] == "connection_established"
        code, received = await close_code(ws, wait_s=6)
    assert received == [], received
    assert code == 4401, f"closed with {code} when the token expired, expected 4401"


async def test_refresh_token_reuse_closes_the_sessions_open_sockets(server, http):
    account = await register(http, "reused")
    ws = await open_ws(server.ws_url, account.access_token)
    await recv(ws)
    first = await http.post("/api/auth/refresh", json={"refresh_token": account.refresh_token})
    assert first.status_code == 200
    replay = await http.post("/api/auth/refresh", json={"refresh_token": account.refresh_token})
    assert replay.status_code == 401
    with pytest.raises(Exception):  # noqa: B017  (closed: the next receive fails)
        await asyncio.wait_for(ws.recv(), 5)
    assert ws.close_code == 4401
