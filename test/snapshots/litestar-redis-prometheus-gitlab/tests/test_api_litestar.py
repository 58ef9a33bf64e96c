"""What only the Litestar layer does: its request class; admission before its body parsing.

The contract's own tests are in ``test_api_contract.py``.
"""

from __future__ import annotations

from api_client import TestClient
from conftest import ClientFactory, assert_error, make_settings


def test_undecodable_bodies_are_malformed_json(client: TestClient) -> None:
    """``ApiRequest`` turns UnicodeDecodeError into a 400, not a 500."""
    body = b'{"mess\xff\xfeage": "hello"}'
    response = client.post("/v1/chat", content=body, headers={"Content-Type": "application/json"})
    error = assert_error(response, 400, "bad_request")
    assert error["message"] == "malformed JSON body"


def test_admission_runs_before_the_body_is_parsed(client_factory: ClientFactory) -> None:
    """The API key is checked before Litestar decodes the body (middleware/admission.py)."""
    client = client_factory(make_settings(api_keys="key-1"))
    response = client.post(
        "/v1/chat", content=b'{"message": ', headers={"Content-Type": "application/json"}
    )
    assert_error(response, 401, "unauthorized")
