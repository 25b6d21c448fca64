"""Write protection and browser hardening.

Every write (lineage ingest; promote, rollback and alias once the registry exists) needs the token
the server was started with (``GRAPHLETS_TOKEN``), sent as ``Authorization: Bearer <token>``, which
is what OpenLineage clients send. The check is a dependency of the write routes, and those routes
read their body themselves, after it: FastAPI resolves dependencies before the handler runs, and a
route without a declared body parameter never parses one first. So a caller without the token gets
401/403, never a 4xx that depends on what the body held. With no token configured every write is
refused, so a server started without one is read-only.

The headers set here keep the pages from being framed, sniffed or fed third-party scripts; there
is no CORS middleware, so browsers refuse cross-origin reads of the JSON API by default.
"""

from __future__ import annotations

import hmac

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graphlets.web.context import WebContext, get_ctx

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="GraphletsToken",
    description="The server's GRAPHLETS_TOKEN, as `Authorization: Bearer <token>`.",
)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)
HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)


def require_token(
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    ctx: WebContext = Depends(get_ctx),
) -> None:
    """Refuse the request unless it carries the configured bearer token.

    Raises:
        HTTPException: 403 when the server has no token (writes disabled) or the token is wrong,
            401 when no bearer token was sent.
    """
    expected = ctx.settings.token
    if not expected:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "writes are disabled on this server: restart it with GRAPHLETS_TOKEN set to a secret "
            "and send that token as 'Authorization: Bearer <token>'",
        )
    if credentials is None or not credentials.credentials:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "this write needs the server's token: send 'Authorization: Bearer <GRAPHLETS_TOKEN>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not hmac.compare_digest(credentials.credentials.encode(), expected.encode()):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "the bearer token is not this server's GRAPHLETS_TOKEN: send the token the server "
            "was started with",
        )


async def read_body(request: Request, max_bytes: int, what: str, fix: str) -> bytes:
    """The raw body of a write route that reads its own (after :func:`require_token` ran).

    Read in chunks and refused with 413 (``"<what> is larger than N bytes: <fix>"``) as soon as it
    passes ``max_bytes``, so an oversized body is never held in memory whole.
    """
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise HTTPException(
                status.HTTP_413_CONTENT_TOO_LARGE,
                f"{what} is larger than {max_bytes} bytes: {fix}",
            )
        chunks.append(chunk)
    return b"".join(chunks)


class SecurityHeaders:
    """Pure ASGI middleware adding :data:`HEADERS` to every HTTP response.

    Written against ASGI directly (not ``BaseHTTPMiddleware``) so streamed downloads stay streamed.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in HEADERS if k not in names]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
