from __future__ import annotations

from pathlib import Path

import pytest

from support_bot.config import Settings, load_settings


def test_defaults() -> None:
    settings = Settings(_env_file=None)
    assert settings.workers == 0
    assert settings.max_body_bytes == 1_048_576
    assert settings.max_message_chars == 8000
    assert settings.request_timeout == 30
    assert settings.shutdown_timeout == 25
    assert settings.llm_timeout == 20
    assert settings.llm_max_retries == 2
    assert settings.agent_max_steps == 8
    assert settings.agent_max_output_tokens == 1024
    assert settings.token_budget_daily == 0
    assert settings.session_store == "memory"
    assert settings.session_max_messages == 50
    assert settings.uses_fake_llm
    assert settings.model_name == "fake"
    assert settings.docs_on
    assert not settings.auth_enabled


def test_environment_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_KEYS", " a, b ,,c ")
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example")
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("DOCS_ENABLED", "")
    monkeypatch.setenv("LLM_BASE_URL", "http://llm.local/v1/")
    settings = Settings(_env_file=None)
    assert settings.api_keys == ("a", "b", "c")
    assert settings.auth_enabled
    assert settings.cors_origins == ("https://a.example",)
    assert settings.log_level == "debug"
    assert settings.docs_enabled is None
    assert settings.llm_endpoint == "http://llm.local/v1"
    assert not settings.uses_fake_llm
    assert settings.model_name == "gpt-4o-mini"


def test_production_rules() -> None:
    with pytest.raises(ValueError, match="API_KEYS"):
        Settings(_env_file=None, environment="production")
    open_prod = Settings(_env_file=None, environment="production", auth_disabled=True)
    assert not open_prod.docs_on
    assert not open_prod.auth_enabled
    key = "k" * 16
    keyed = Settings(_env_file=None, environment="production", api_keys=(key,), docs_enabled=True)
    assert keyed.docs_on
    assert keyed.is_production
    with pytest.raises(ValueError, match="API_KEY_MIN_LENGTH"):
        Settings(_env_file=None, environment="production", api_keys=(key, "short"))
    # staging is deployed too: the same rules
    with pytest.raises(ValueError, match="API_KEYS: required when ENVIRONMENT=staging"):
        Settings(_env_file=None, environment="staging")
    with pytest.raises(ValueError, match="API_KEY_MIN_LENGTH"):
        Settings(_env_file=None, environment="staging", api_keys=("short",))
    # locally (development, tests) a short key is allowed
    assert Settings(_env_file=None, api_keys=("k",)).auth_enabled
    assert Settings(_env_file=None, llm_api_key="k").llm_endpoint == "https://api.openai.com/v1"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("PORT", "abc", "invalid configuration: PORT: "),
        ("PORT", "70000", "invalid configuration: PORT: "),
        ("LOG_FORMAT", "xml", "invalid configuration: LOG_FORMAT: "),
        ("CORS_ORIGINS", "*", "invalid configuration: CORS_ORIGINS: '*' is not allowed"),
        ("LLM_BASE_URL", "ftp://x", "invalid configuration: LLM_BASE_URL: must start with"),
        ("FORWARDED_ALLOW_IPS", "*", "invalid configuration: FORWARDED_ALLOW_IPS: '*' is not"),
        (
            "FORWARDED_ALLOW_IPS",
            "10.0.0.0/8,proxy",
            "invalid configuration: FORWARDED_ALLOW_IPS: 'proxy' is not an IP",
        ),
        ("MAX_HEADER_BYTES", "100", "invalid configuration: MAX_HEADER_BYTES: "),
        ("HEADER_READ_TIMEOUT", "0", "invalid configuration: HEADER_READ_TIMEOUT: "),
        (
            "ENVIRONMENT",
            "production",
            "invalid configuration: API_KEYS: required when ENVIRONMENT=production",
        ),
        ("WORKERS", "2", "invalid configuration: WORKERS: at most 1 with SESSION_STORE=memory"),
        ("LLM_PRICES", "gpt: 1/2", "invalid configuration: LLM_PRICES: must be a JSON object"),
        (
            "LLM_PRICES",
            '{"gpt-4o": {"input": -1, "output": 2}}',
            "invalid configuration: LLM_PRICES: gpt-4o.input: Input should be greater than",
        ),
        (
            "LLM_PRICES",
            '{"gpt-4o": {"input": 1, "output": 2, "cachd_input": 0.5}}',
            "invalid configuration: LLM_PRICES: gpt-4o.cachd_input: Extra inputs",
        ),
        (
            "KEY_TOKEN_BUDGET_DAILY",
            "1000",
            "invalid configuration: KEY_TOKEN_BUDGET_DAILY: counts per API key, so it needs API_KEYS",
        ),
        (
            "USER_TOKEN_BUDGET_DAILY",
            "1000",
            "invalid configuration: USER_TOKEN_BUDGET_DAILY: needs BUDGET_TRUST_USER_ID=true",
        ),
        (
            "BUDGET_WARNING_RATIO",
            "1.5",
            "invalid configuration: BUDGET_WARNING_RATIO: Input should",
        ),
    ],
)
def test_bad_configuration_exits_2_with_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    variable: str,
    value: str,
    expected: str,
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setenv(variable, value)
    with pytest.raises(SystemExit) as caught:
        load_settings()
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(expected)
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_dotenv_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("AGENT_MAX_STEPS=3\n")
    assert load_settings().agent_max_steps == 3


def test_price_table_and_budget_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    defaults = load_settings()
    assert defaults.llm_prices == {}
    assert defaults.key_token_budget_daily == 0
    assert defaults.budget_warning_ratio == 0.8
    assert defaults.budget_metric_keys_max == 50
    monkeypatch.setenv(
        "LLM_PRICES",
        '{"gpt-4o-mini": {"input": 0.15, "output": 0.6, "cached_input": 0.075},'
        ' "other": {"input": 1, "output": 2}}',
    )
    monkeypatch.setenv("API_KEYS", "key-one")
    monkeypatch.setenv("KEY_TOKEN_BUDGET_DAILY", "5000")
    monkeypatch.setenv("USER_TOKEN_BUDGET_DAILY", "100")
    monkeypatch.setenv("BUDGET_TRUST_USER_ID", "true")
    monkeypatch.setenv("KEY_ID_SECRET", "s3cret-for-ids")
    settings = load_settings()
    price = settings.llm_prices["gpt-4o-mini"]
    assert (price.input, price.output, price.cached_input) == (0.15, 0.6, 0.075)
    assert settings.llm_prices["other"].cached_input is None
    assert settings.key_token_budget_daily == 5000
    assert settings.user_token_budget_daily == 100
    assert "s3cret-for-ids" not in repr(settings)


def test_turn_capacity_follows_the_model_connections() -> None:
    settings = Settings(_env_file=None)
    assert settings.llm_max_connections == 256
    assert settings.inflight_turns_limit == 256  # MAX_INFLIGHT_TURNS=0: LLM_MAX_CONNECTIONS
    assert Settings(_env_file=None, llm_max_connections=50).inflight_turns_limit == 50
    assert Settings(_env_file=None, max_inflight_turns=10).inflight_turns_limit == 10
    with pytest.raises(ValueError, match="MAX_INFLIGHT_TURNS: at most LLM_MAX_CONNECTIONS"):
        Settings(_env_file=None, llm_max_connections=10, max_inflight_turns=11)
