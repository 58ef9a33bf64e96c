from __future__ import annotations

import pytest

from triage_agent.web.errors import (
    STATUS_CODES,
    code_for_status,
    status_error_payload,
)


@pytest.mark.parametrize(
    ("status", "detail", "code", "message"),
    [
        (404, "Not Found", "not_found", "not found"),
        (405, "Method Not Allowed", "method_not_allowed", "method not allowed"),
        (400, "Bad Thing", "bad_request", "Bad Thing"),
        (413, "", "payload_too_large", "payload too large"),
        (403, None, "forbidden", "forbidden"),
        (418, "teapot", "bad_request", "teapot"),
        (599, None, "internal_error", "internal error"),
    ],
)
def test_status_error_payload(status: int, detail: object, code: str, message: str) -> None:
    error = status_error_payload(status, detail)["error"]
    assert (error["code"], error["message"], error["details"]) == (code, message, [])


def test_every_listed_status_has_its_code() -> None:
    assert all(code_for_status(status) == code for status, code in STATUS_CODES.items())
