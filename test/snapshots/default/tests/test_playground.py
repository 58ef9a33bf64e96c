"""The playground page (GET /playground) and the session read endpoint, through the app."""

from __future__ import annotations

import re
from typing import Any

import pytest

from my_agent.agent.fake import (
    MARKUP_ANSWER,
    MARKUP_TRIGGER,
    FakeChatModel,
)
from my_agent.config import load_settings
from my_agent.playground import (
    CONFIG_PATH,
    CONTENT_SECURITY_POLICY,
    FILES,
    PAGE_PATH,
)

from conftest import ClientFactory, Response, assert_contract_headers, assert_error, make_settings

KEY = "playground-test-key"


def assert_page_headers(response: Response) -> None:
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "default-src 'self'" in CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert "unsafe-" not in CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    assert_contract_headers(response)  # like every other response


def playground_paths() -> list[str]:
    return [*FILES, CONFIG_PATH]


# --- the page ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", playground_paths())
def test_page_and_assets_are_served_with_strict_headers(
    client_factory: ClientFactory, path: str
) -> None:
    client = client_factory(make_settings(environment="development"))
    response: Response = client.get(path)
    assert response.status_code == 200
    expected = FILES[path][1] if path in FILES else "application/json"
    assert response.headers["content-type"] == expected
    assert int(response.headers["content-length"]) == len(response.content) > 0
    assert_page_headers(response)


def test_the_page_has_no_inline_script_or_style(client_factory: ClientFactory) -> None:
    html = client_factory(make_settings(environment="development")).get(PAGE_PATH).text
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts == ['<script src="playground/playground.js" defer>']
    assert re.findall(r"<script[^>]*>(.*?)</script>", html, re.DOTALL) == [""]
    assert "<style" not in html
    assert re.search(r"\s(on\w+|style)=", html) is None
    assert "http://" not in html
    assert "https://" not in html  # no CDN: every file comes from the service


def test_the_files_stay_small(client_factory: ClientFactory) -> None:
    client = client_factory(make_settings(environment="development"))
    total = sum(len(client.get(path).content) for path in FILES)
    assert total < 64 * 1024


def test_head_and_other_methods(client_factory: ClientFactory) -> None:
    client = client_factory(make_settings(environment="development"))
    head: Response = client.head(PAGE_PATH)
    assert head.status_code == 200
    assert head.content == b""
    assert_page_headers(head)
    post: Response = client.post(PAGE_PATH, json={})
    assert_error(post, 405, "method_not_allowed")
    assert post.headers["allow"] == "GET, HEAD"


def test_trailing_slash_redirects_and_unknown_files_are_404(client_factory: ClientFactory) -> None:
    client = client_factory(make_settings(environment="development"))
    redirect: Response = client.get(PAGE_PATH + "/", follow_redirects=False)
    assert redirect.status_code == 308
    assert redirect.headers["location"] == "../playground"
    assert_error(client.get("/playground/secrets.txt"), 404, "not_found")
    assert_error(client.get("/playground/../config.py"), 404, "not_found")


def test_page_config_says_what_the_page_needs_and_no_secret(client_factory: ClientFactory) -> None:
    client = client_factory(make_settings(environment="development", api_keys=(KEY,)))
    config: dict[str, Any] = client.get(CONFIG_PATH).json()
    assert config["service"] == "my-agent"
    assert config["auth"] is True
    assert config["docs"] is True
    assert config["metrics"] is True
    assert KEY not in client.get(CONFIG_PATH).text
    open_client = client_factory(make_settings(environment="development"))
    assert open_client.get(CONFIG_PATH).json()["auth"] is False


def test_the_page_never_needs_the_api_key(client_factory: ClientFactory) -> None:
    # The page loads before the user typed a key; the API behind it stays protected.
    client = client_factory(make_settings(environment="development", api_keys=(KEY,)))
    assert client.get(PAGE_PATH).status_code == 200
    assert_error(client.post("/v1/chat", json={"message": "hi"}), 401, "unauthorized")


def test_production_has_no_playground(client_factory: ClientFactory) -> None:
    client = client_factory(make_settings(environment="production", api_keys=(KEY,)))
    for path in [*playground_paths(), PAGE_PATH + "/"]:
        assert_error(client.get(path), 404, "not_found")
    document = client.get("/openapi.json").text
    assert "playground" not in document


def test_playground_enabled_turns_it_on_in_production(client_factory: ClientFactory) -> None:
    settings = make_settings(environment="production", api_keys=(KEY,), playground_enabled=True)
    client = client_factory(settings)
    assert_page_headers(client.get(PAGE_PATH))
    assert "playground" not in client.get("/openapi.json").text  # never an API route


def test_playground_enabled_false_turns_it_off_in_development(
    client_factory: ClientFactory,
) -> None:
    client = client_factory(make_settings(environment="development", playground_enabled=False))
    assert_error(client.get(PAGE_PATH), 404, "not_found")


def test_an_invalid_playground_enabled_stops_the_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PLAYGROUND_ENABLED", "sometimes")
    with pytest.raises(SystemExit) as caught:
        load_settings()
    assert caught.value.code == 2
    assert capsys.readouterr().err.startswith("invalid configuration: PLAYGROUND_ENABLED:")


# --- GET /v1/sessions/{session_id} ---------------------------------------------------------


def test_session_history_after_two_turns(client_factory: ClientFactory) -> None:
    client = client_factory()
    first: dict[str, Any] = client.post("/v1/chat", json={"message": "what is 6*7?"}).json()
    session = first["session_id"]
    client.post("/v1/chat", json={"message": "hello", "session_id": session})
    response: Response = client.get(f"/v1/sessions/{session}")
    assert response.status_code == 200, response.text
    assert_contract_headers(response)
    body = response.json()
    assert body["session_id"] == session
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user", "assistant"]
    assert body["messages"][0]["content"] == "what is 6*7?"
    assert body["messages"][1]["content"] == first["answer"]
    assert body["messages"][2]["content"] == "hello"


def test_unknown_session_is_404(client_factory: ClientFactory) -> None:
    error = assert_error(client_factory().get("/v1/sessions/never-started"), 404, "not_found")
    assert error["message"] == "no such session"


@pytest.mark.parametrize("session_id", ["a" * 65, "bad.id", "white%20space", "%C3%A9"])
def test_session_id_pattern_is_validated(client_factory: ClientFactory, session_id: str) -> None:
    response: Response = client_factory().get(f"/v1/sessions/{session_id}")
    error = assert_error(response, 422, "validation_error")
    assert [detail["field"] for detail in error["details"]] == ["session_id"]


def test_session_history_needs_the_api_key(client_factory: ClientFactory) -> None:
    client = client_factory(make_settings(api_keys=(KEY,)))
    auth = {"Authorization": f"Bearer {KEY}"}
    session = client.post("/v1/chat", json={"message": "hi"}, headers=auth).json()["session_id"]
    assert_error(client.get(f"/v1/sessions/{session}"), 401, "unauthorized")
    wrong = {"Authorization": "Bearer wrong"}
    assert_error(client.get(f"/v1/sessions/{session}", headers=wrong), 401, "unauthorized")
    assert client.get(f"/v1/sessions/{session}", headers=auth).status_code == 200
    assert client.get(f"/v1/sessions/{session}", headers={"X-API-Key": KEY}).status_code == 200


def test_session_endpoint_is_in_the_openapi_document(client_factory: ClientFactory) -> None:
    paths = client_factory().get("/openapi.json").json()["paths"]
    assert "get" in paths["/v1/sessions/{session_id}"]


# --- the fake model's markup answer ---------------------------------------------------------


async def test_fake_model_answers_markup_on_request_deterministically() -> None:
    model = FakeChatModel()
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Please SHOW UNTRUSTED MARKUP"}]
    completion = await model.complete(messages, [], 100)
    assert completion.content == MARKUP_ANSWER
    assert "<img src=x onerror=" in MARKUP_ANSWER
    streamed = [item async for item in model.stream(messages, [], 100)]
    assert "".join(item for item in streamed if isinstance(item, str)) == MARKUP_ANSWER
    assert MARKUP_TRIGGER == "show untrusted markup"
