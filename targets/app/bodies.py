"""Request bodies of the sharded endpoints, and the JSON responses they share.

Bodies are decoded by the `--codec` codec into typed msgspec Structs. Invalid JSON
(including integers outside the 64-bit range, NaN and infinities) gets 400, and a
body that breaks the schema gets 422, each with `{"error": message}` naming the
field at fault.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, TypeVar

import msgspec

from targets.codecs.base import Codec
from targets.codecs.errors import CodecError
from targets.http.response import CONTENT_TYPE_JSON, Response, ResponseHead, make_head
from targets.routing.keyspace import MAX_ID

REGION_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"

StructT = TypeVar("StructT", bound=msgspec.Struct)

Region = Annotated[str, msgspec.Meta(pattern=REGION_PATTERN)]
UserId = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]


class NewUser(msgspec.Struct, forbid_unknown_fields=True):
    """Body of `POST /users`; the target assigns an id when none is given."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    region: Region
    id: UserId | None = None


class NewEvent(msgspec.Struct):
    """The fields of `POST /events` the target reads; other fields travel as payload."""

    kind: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    user_id: UserId


class BodyError(Exception):
    """A request body that cannot be decoded, and the status to respond with."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        """Report `message` with `status` (400 or 422)."""
        super().__init__(message)
        self.status = status


def decode_body(body: bytes, struct_type: type[StructT], codec: Codec) -> StructT:
    """Decode a JSON body into `struct_type` with `codec`.

    Raises:
        BodyError: 400 when the body is empty or not JSON, 422 when it breaks the
            schema; msgspec's message names the field, such as `$.user_id`.
    """
    if not body:
        raise BodyError(HTTPStatus.BAD_REQUEST, "request body is empty: send a JSON object")
    try:
        return codec.decode(body, struct_type)
    except CodecError as exc:
        raise BodyError(exc.status, str(exc)) from None


_HEADS: dict[HTTPStatus, ResponseHead] = {}


def json_head(status: HTTPStatus) -> ResponseHead:
    """Return the cached JSON response head for `status`."""
    head = _HEADS.get(status)
    if head is None:
        head = _HEADS[status] = make_head(status, CONTENT_TYPE_JSON)
    return head


def json_response(
    codec: Codec,
    status: HTTPStatus,
    value: object,
    headers: tuple[tuple[bytes, bytes], ...] = (),
) -> Response:
    """Encode `value` with `codec` as a JSON response, adding `headers` when given."""
    head = make_head(status, CONTENT_TYPE_JSON, headers) if headers else json_head(status)
    return head, codec.encode(value)


def error_response(
    codec: Codec,
    status: HTTPStatus,
    message: str,
    headers: tuple[tuple[bytes, bytes], ...] = (),
) -> Response:
    """Return `{"error": message}` with `status`."""
    return json_response(codec, status, {"error": message}, headers)


def unavailable_response(codec: Codec, message: str, retry_after_s: int = 1) -> Response:
    """Return 503 with `Retry-After`, for a shard or queue that cannot take the request now."""
    retry_after = (b"Retry-After", str(retry_after_s).encode("ascii"))
    return error_response(codec, HTTPStatus.SERVICE_UNAVAILABLE, message, (retry_after,))
