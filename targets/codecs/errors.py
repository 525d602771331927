"""Errors of the codecs, under `targets.errors.TargetError`.

CodecError                 root of the codec errors
├── InvalidBodyError       a request body that is not acceptable JSON (HTTP 400)
├── SchemaViolationError   JSON that breaks the body's schema (HTTP 422)
└── UnencodableValueError  a response value JSON cannot carry exactly (HTTP 500)
"""

from __future__ import annotations

from http import HTTPStatus

from targets.errors import TargetError


class CodecError(TargetError):
    """A value that a codec cannot decode or encode.

    Attributes:
        status: the HTTP status of the response a server sends.
    """

    status = HTTPStatus.INTERNAL_SERVER_ERROR


class InvalidBodyError(CodecError):
    """A request body that is not JSON, not UTF-8, or has a number JSON cannot carry exactly.

    Such numbers are integers outside the 64-bit range and NaN or infinities.
    """

    status = HTTPStatus.BAD_REQUEST


class SchemaViolationError(CodecError):
    """A JSON request body whose content breaks its schema; the message names the field."""

    status = HTTPStatus.UNPROCESSABLE_ENTITY


class UnencodableValueError(CodecError):
    """A response value with an out-of-range integer, NaN, an infinity or a lone surrogate."""

    status = HTTPStatus.INTERNAL_SERVER_ERROR
