"""Access tokens: JWTs signed with JWT_SECRET (HS256), carrying sub, iat, exp and jti."""

import time
import uuid

import jwt

ALGORITHM = "HS256"
_REQUIRED = ("sub", "iat", "exp", "jti")


class InvalidTokenError(Exception):
    """The token is malformed, tampered with, expired or not ours."""


class Tokens:
    """Issue and verify the service's access tokens."""

    def __init__(self, secret: str, ttl: int) -> None:
        self._secret = secret
        self.ttl = ttl

    def issue(self, user_id: int) -> str:
        """A token naming `user_id`, valid for `ttl` seconds from now."""
        now = int(time.time())
        claims = {"sub": str(user_id), "iat": now, "exp": now + self.ttl, "jti": uuid.uuid4().hex}
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> int:
        """The user id a valid token names; InvalidTokenError for any other token."""
        try:
            claims = jwt.decode(
                token, self._secret, algorithms=[ALGORITHM], options={"require": list(_REQUIRED)}
            )
            return int(claims["sub"])
        except jwt.ExpiredSignatureError:
            raise InvalidTokenError("The access token has expired.") from None
        except (jwt.InvalidTokenError, ValueError):
            raise InvalidTokenError("The access token is not valid.") from None
