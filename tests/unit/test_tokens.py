import time

import jwt
import pytest

from netra.auth.tokens import (
    hash_refresh_token,
    issue_access_token,
    new_refresh_token,
    read_access_token,
)
from netra.errors import Unauthorized

KEY = b"k" * 64


def test_an_issued_token_carries_the_protocol_claims():
    token = issue_access_token(KEY, "user-1", "session-1", 900)
    claims = jwt.decode(token, KEY, algorithms=["HS256"], audience="netra-api")
    assert claims["sub"] == "user-1"
    assert claims["sid"] == "session-1"
    assert claims["iss"] == "netra"
    assert claims["aud"] == "netra-api"
    assert claims["exp"] - claims["iat"] == 900
    assert claims["jti"]
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_a_valid_token_is_read_back():
    claims = read_access_token(KEY, issue_access_token(KEY, "u", "s", 60))
    assert (claims.user_id, claims.session_id) == ("u", "s")


def _claims(**overrides):
    now = int(time.time())
    return {
        "sub": "u",
        "sid": "s",
        "iat": now,
        "exp": now + 60,
        "jti": "j",
        "iss": "netra",
        "aud": "netra-api",
    } | overrides


@pytest.mark.parametrize(
    "token",
    [
        jwt.encode(_claims(), b"another-key" * 4, algorithm="HS256"),
        jwt.encode(_claims(exp=int(time.time()) - 5), KEY, algorithm="HS256"),
        jwt.encode(_claims(aud="someone-else"), KEY, algorithm="HS256"),
        jwt.encode(_claims(iss="not-netra"), KEY, algorithm="HS256"),
        jwt.encode({k: v for k, v in _claims().items() if k != "sid"}, KEY, algorithm="HS256"),
        jwt.encode(_claims(), KEY, algorithm="HS512"),
        jwt.encode(_claims(), None, algorithm="none"),
        "not.a.jwt",
        "",
    ],
    ids=[
        "other-key",
        "expired",
        "audience",
        "issuer",
        "no-sid",
        "hs512",
        "alg-none",
        "garbage",
        "empty",
    ],
)
def test_bad_tokens_are_refused(token):
    with pytest.raises(Unauthorized):
        read_access_token(KEY, token)


def test_refresh_tokens_are_random_and_stored_as_sha256():
    first, second = new_refresh_token(), new_refresh_token()
    assert first != second and len(first) >= 40
    assert len(hash_refresh_token(first)) == 64
    assert hash_refresh_token(first) != first
