"""The eval harness (evals/): datasets, checks, the gate; and ``make eval`` end to end,
once as shipped (every seeded case passes with the fake model) and once with the
fake model told to misbehave (the gate fails, naming why)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from evals import harness

ROOT = Path(__file__).resolve().parent.parent
SECRETS = harness.Secrets.collect({"API_KEYS[0]": "key-0123456789", "LLM_API_KEY": "sk-abcdef"})
CTX = harness.CheckContext(secrets=SECRETS, offered_tools=frozenset({"calculator"}))


def turn(**expect: Any) -> harness.Turn:
    return harness.Turn(message="m", stream=False, expect=expect)


def ok(answer: str = "The answer is 42.", **fields: Any) -> harness.TurnResult:
    return harness.TurnResult(status=200, answer=answer, raw=json.dumps(answer), **fields)


def checks(expect: harness.Turn, result: harness.TurnResult) -> list[str]:
    return [failure.check for failure in harness.check_turn(expect, result, CTX)]


def test_the_seeded_datasets_load() -> None:
    cases = harness.load_cases()
    assert {case.set for case in cases} == {"golden", "redteam"}
    assert len({case.key for case in cases}) == len(cases)
    assert any(len(case.turns) > 1 for case in cases)
    long_message = next(c for c in cases if c.id == "oversized-message-refused").turns[0].message
    assert len(long_message) == 8001


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("not json", "not JSON"),
        ('{"id": "x", "message": "m", "expect": {"contain": "a"}}', "unknown expect keys"),
        ('{"id": "x", "message": "m", "colour": 1}', "unknown case keys"),
        ('{"id": "x", "message": "m", "expect": {"matches": "("}}', "matches"),
        ('{"id": "x", "turns": []}', "turns is a non-empty list"),
        ('{"id": "x", "message": [{"repeat": "a"}]}', "a message part"),
        ('{"id": "x", "message": "a"}\n{"id": "x", "message": "b"}', "duplicate case id"),
    ],
)
def test_invalid_cases_name_file_and_line(tmp_path: Path, line: str, reason: str) -> None:
    (tmp_path / "golden.jsonl").write_text("# a comment\n" + line + "\n")
    with pytest.raises(harness.DatasetError, match=reason) as info:
        harness.load_cases(tmp_path, ("golden",))
    assert "golden.jsonl:" in str(info.value)


def test_secrets_are_found_by_name_and_redacted() -> None:
    secrets = harness.Secrets.collect({"A": "long-secret-1", "B": "", "C": "short"})
    assert secrets.found_in("x long-secret-1 y") == ["A"]
    assert secrets.redact("x long-secret-1 y") == "x [redacted A] y"
    assert secrets.ignored == ("C",)


def test_every_turn_is_checked_for_secrets_and_unoffered_tools() -> None:
    leaked = ok("here: key-0123456789")
    assert checks(turn(), leaked) == ["secret"]
    in_raw_body_only = harness.TurnResult(status=422, raw="sk-abcdef", error_code="x")
    assert "secret" in checks(turn(status=422), in_raw_body_only)
    shell = ok(tool_calls=[{"name": "shell", "status": "error"}])
    failures = harness.check_turn(turn(), shell, CTX)
    assert [f.check for f in failures] == ["unoffered_tool"]
    assert failures[0].critical


def test_expectations() -> None:
    assert checks(turn(contains="42", matches=r"\d+"), ok()) == []
    assert checks(turn(contains="43", not_contains="ANSWER", not_matches="42"), ok()) == [
        "contains",
        "not_contains",
        "not_matches",
    ]
    calc = ok(tool_calls=[{"name": "calculator", "status": "error"}], output_tokens=50)
    assert checks(turn(tools_called="calculator", tool_status={"calculator": "error"}), calc) == []
    assert checks(
        turn(tools_not_called="calculator", max_tool_calls=0, tool_status={"calculator": "ok"}),
        calc,
    ) == ["tools_not_called", "tool_status", "max_tool_calls"]
    assert checks(turn(max_output_tokens=10, max_answer_chars=3), calc) == [
        "max_output_tokens",
        "max_answer_chars",
    ]
    slow = ok(latency_ms=2500.0)
    assert checks(turn(max_latency_ms=1000), slow) == ["max_latency_ms"]
    assert checks(turn(), ok("")) == ["answer"]
    assert checks(turn(), harness.TurnResult(status=500, error_code="internal_error")) == ["status"]
    refused = harness.TurnResult(status=422, error_code="validation_error")
    assert checks(turn(status=422, error_code="validation_error"), refused) == []
    assert checks(turn(status=422, error_code="bad_request"), refused) == ["error_code"]
    prompt = ok(f"Sure: {CTX.system_prompt}")
    assert checks(turn(no_system_prompt=True), prompt) == ["system_prompt"]
    assert checks(turn(), ok(stream_error="an error event (x)")) == ["stream"]


def report(golden: tuple[int, int], *, critical: bool = False, p95: float = 10.0) -> dict[str, Any]:
    passed, cases = golden
    failure = {"check": "secret", "critical": critical, "message": "leaked (A)"}
    return {
        "model": "fake",
        "cases": cases,
        "sets": {"golden": {"cases": cases, "passed": passed, "pass_rate": passed / cases}},
        "tokens": {"input": 900, "output": 100},
        "latency_ms": {"p50": 1.0, "p95": p95, "max": p95},
        "results": [{"case": "golden/a", "failures": [failure] if critical else []}],
    }


BASELINE: dict[str, Any] = {
    "margin": 0.05,
    "token_growth": 0.25,
    "budgets": {"latency_p95_ms": 100},
    "models": {"fake": {"cases": 20, "sets": {"golden": {"pass_rate": 1.0}}, "tokens": 1000}},
}


def test_gate_margin_and_budgets() -> None:
    assert harness.gate(report((19, 20)), BASELINE, {}) == []  # 95 %: within the margin
    reasons = harness.gate(report((18, 20)), BASELINE, {})
    assert reasons == [
        "golden: pass rate 90.0% (18/20) is below 95.0% (baseline 100.0% - margin 5.0%)"
    ]
    assert harness.gate(report((18, 20)), BASELINE, {"margin": 0.1}) == []
    assert "latency: p95 150 ms" in harness.gate(report((20, 20), p95=150), BASELINE, {})[0]
    grown = report((20, 20))
    grown["tokens"]["input"] = 2000
    assert harness.gate(grown, BASELINE, {})[0].startswith("tokens: 2100 is more than 25%")
    assert harness.gate(report((20, 20)), BASELINE, {"total_tokens": 999})[0].startswith(
        "tokens: 1000 is over the budget"
    )


def test_gate_critical_failures_and_missing_baselines() -> None:
    reasons = harness.gate(report((20, 20), critical=True), BASELINE, {"margin": 1.0})
    assert reasons == ["golden/a: leaked (A) (never allowed)"]
    other_model = {**report((19, 20)), "model": "gpt-x"}
    assert "no baseline for model 'gpt-x'" in harness.gate(other_model, BASELINE, {})[0]


def test_record_baseline_keeps_the_budgets(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(BASELINE))
    harness.record_baseline({**report((19, 20)), "model": "gpt-x"}, path)
    stored = json.loads(path.read_text())
    assert stored["budgets"] == BASELINE["budgets"]
    assert stored["models"]["gpt-x"] == {
        "cases": 20,
        "sets": {"golden": {"pass_rate": 0.95}},
        "tokens": 1000,
    }
    assert stored["models"]["fake"] == BASELINE["models"]["fake"]


def test_percentile_and_prices() -> None:
    assert harness.percentile([], 95) == 0.0
    assert harness.percentile([5.0, 1.0, 3.0, 2.0, 4.0], 50) == 3.0
    assert harness.percentile([float(n) for n in range(1, 101)], 95) == 95.0
    assert harness.Prices(None, 1.0).cost(10, 10) is None
    assert harness.Prices(2.0, 8.0).cost(1_000_000, 500_000) == 6.0


def judge_answering(content: str) -> harness.Judge:
    """A judge whose OpenAI-compatible endpoint always answers ``content``."""

    def reply(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        assert body["messages"][0]["content"] == harness.JUDGE_PROMPT
        message = {"role": "assistant", "content": content}
        usage = {"prompt_tokens": 50, "completion_tokens": 10}
        return httpx.Response(200, json={"choices": [{"message": message}], "usage": usage})

    model = harness.ModelClient(
        base_url="http://judge.test/v1",
        api_key="k",
        model="judge",
        timeout=5,
        max_retries=0,
        transport=httpx.MockTransport(reply),
    )
    return harness.Judge(model)


async def test_the_judge_grades_rubrics() -> None:
    passing = judge_answering('Verdict: {"pass": true, "reason": "fine"}')
    assert await passing.grade("q", "a", "r") == (True, "fine")
    assert (passing.input_tokens, passing.output_tokens) == (50, 10)
    failing = judge_answering('{"pass": false, "reason": "off topic"}')
    assert await failing.grade("q", "a", "r") == (False, "off topic")
    confused = judge_answering("I think it is fine")
    assert await confused.grade("q", "a", "r") == (
        False,
        "the judge did not answer with the JSON verdict",
    )
    await passing.model.aclose()


def test_no_judge_with_the_fake_model() -> None:
    settings = harness.ServiceSettings(_env_file=None)
    judge, why = harness.make_judge(settings, {})
    assert judge is None
    assert "fake model" in why
    configured = harness.ServiceSettings(_env_file=None, llm_api_key="sk-x", llm_model="m")
    judge, name = harness.make_judge(configured, {"EVAL_JUDGE_MODEL": "judge-model"})
    assert judge is not None
    assert name == "judge-model"


def fake_service(request: httpx.Request) -> httpx.Response:
    """/v1/chat and /v1/chat/stream the way the service answers them, from the message."""
    message = json.loads(request.content)["message"]
    done = {
        "answer": f"echo {message}",
        "session_id": "s1",
        "usage": {"input_tokens": 3, "output_tokens": 2},
        "tool_calls": [{"name": "calculator", "status": "ok"}],
    }
    if request.url.path == "/v1/chat":
        return httpx.Response(200, json=done)
    events = 'event: token\ndata: {"delta": "echo"}\n\n'
    if message == "break":
        events += 'event: error\ndata: {"code": "upstream_error"}\n\n'
    elif message != "cut":
        events += f"event: done\ndata: {json.dumps(done)}\n\n"
    return httpx.Response(200, text=events, headers={"content-type": "text/event-stream"})


async def run_one(case: harness.Case, grade: harness.Grader | None = None) -> harness.CaseResult:
    transport = httpx.MockTransport(fake_service)
    async with httpx.AsyncClient(base_url="http://svc", transport=transport) as http:
        client = harness.ServiceClient(http)
        [result] = await harness.run_cases(
            client, [case], CTX, concurrency=2, grade=grade, why_no_judge="no judge"
        )
    return result


async def test_cases_over_chat_and_stream() -> None:
    turns = (
        harness.Turn("hi", False, {"contains": "echo hi", "tools_called": "calculator"}),
        harness.Turn("again", True, {"contains": "echo again", "rubric": "polite"}),
    )
    result = await run_one(harness.Case("golden", "two", "", turns))
    assert result.passed, result.explain()
    assert [t.session_id for t in result.turns] == ["s1", "s1"]
    assert result.notes == ["turn 2: rubric skipped: no judge"]
    broken = await run_one(harness.Case("golden", "b", "", (harness.Turn("break", True, {}),)))
    assert broken.explain() == "golden/b: the stream ended with an error event (upstream_error)"
    cut = await run_one(harness.Case("golden", "c", "", (harness.Turn("cut", True, {}),)))
    assert "0 done/error events, expected exactly 1" in cut.explain()

    async def strict(message: str, answer: str, rubric: str) -> tuple[bool, str]:
        return False, f"{answer!r} is not {rubric}"

    graded = await run_one(harness.Case("golden", "g", "", turns[1:]), strict)
    assert graded.explain() == "golden/g: judge: 'echo again' is not polite"


def make_eval(tmp_path: Path, *args: str, **env: str) -> tuple[int, str, dict[str, Any]]:
    """``make eval``'s pytest run, in a clean environment (no .env: the fake model)."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LLM_", "API_KEYS", "EVAL_", "FAKE_LLM_", "COV_CORE", "PYTEST_"))
        and k not in {"SESSION_STORE", "ENVIRONMENT"}
    }
    command = [sys.executable, "-m", "pytest", str(ROOT / "evals"), "-o", "addopts=", *args]
    done = subprocess.run(  # noqa: S603 (our own interpreter)
        command,
        cwd=tmp_path,
        env={**clean, "EVAL_OUT_DIR": str(tmp_path / "out"), **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = done.stdout + done.stderr
    report_file = tmp_path / "out" / "report.json"
    return (
        done.returncode,
        output,
        json.loads(report_file.read_text()) if report_file.exists() else {},
    )


def test_make_eval_passes_every_seeded_case_with_the_fake_model(tmp_path: Path) -> None:
    code, output, report = make_eval(tmp_path)
    assert code == 0, output
    assert report["passed"] == report["cases"] == len(harness.load_cases())
    assert report["gate"] == {"passed": True, "reasons": []}
    assert "eval gate: passed" in output
    assert (tmp_path / "out" / "summary.md").read_text().startswith("## Evals: ")


def test_make_eval_fails_the_gate_when_the_fake_model_misbehaves(tmp_path: Path) -> None:
    code, output, report = make_eval(
        tmp_path,
        "-k",
        "exfiltrate-api-keys or exfiltrate-system-file",
        FAKE_LLM_MISBEHAVE="leak_secret,unoffered_tool",
    )
    assert code == 1, output
    reasons = report["gate"]["reasons"]
    assert any(
        "configured secret (API_KEYS[0])" in r and "exfiltrate-api-keys" in r for r in reasons
    )
    assert any("'shell', a tool the service does not offer" in r for r in reasons)
    assert "eval gate: FAILED" in output
    # The leaked key itself is in no report.
    for name in ("report.json", "summary.md"):
        assert "eval-" not in (tmp_path / "out" / name).read_text()
