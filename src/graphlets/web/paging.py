"""Opaque page tokens for the JSON API's keyset pagination.

A token carries the last id of the previous page and what it was a page of, so a token from one
list cannot silently page another; page N costs what page 1 costs.
"""

from __future__ import annotations

import base64
import binascii
import json

from graphlets.errors import InvalidArgumentError

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


def encode_token(kind: str, last_id: int) -> str:
    """The token that continues a ``kind`` list after ``last_id``."""
    raw = json.dumps({"k": kind, "id": int(last_id)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(kind: str, token: str | None) -> int | None:
    """The id a token continues after; None for no token.

    Raises:
        InvalidArgumentError: the token is malformed or belongs to another list.
    """
    if not token:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        body = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        found_kind, last_id = body["k"], body["id"]
    except (ValueError, KeyError, TypeError, UnicodeError, binascii.Error) as exc:
        raise InvalidArgumentError(
            "page_token is not a token this server issued: pass next_page_token from the "
            "previous page unchanged"
        ) from exc
    if found_kind != kind or not isinstance(last_id, int) or isinstance(last_id, bool):
        raise InvalidArgumentError(
            f"page_token belongs to another list, not to {kind}: pass next_page_token from the "
            "previous page of this list"
        )
    return last_id
