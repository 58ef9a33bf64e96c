"""pytest plumbing of ``make eval``: run the selected cases once, concurrently,
against EVAL_BASE_URL or a service started here; then the report and the gate.

Each case is one test (evals/test_evals.py), so ``-k``, the JUnit XML and the
failure output are pytest's own. The exit status is the gate's: failed cases
within the baseline's margin pass, a gate reason fails (see harness.gate).
"""

from __future__ import annotations

import asyncio
import json
import os
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from evals import harness


@dataclass
class EvalRun:
    results: list[harness.CaseResult]
    model: str
    target: str
    secrets: harness.Secrets
    out_dir: Path
    reasons: list[str] | None = None  # None: a baseline was recorded instead
    report: dict[str, Any] = field(default_factory=dict)


RUN = pytest.StashKey[EvalRun]()


def _env_float(name: str) -> float | None:
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise pytest.UsageError(f"{name}: not a number: {value!r}") from None


def _write(config: pytest.Config, line: str) -> None:
    """A progress line on the terminal, past pytest's output capture."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line(line)


async def _run(
    config: pytest.Config,
    *,
    url: str,
    api_key: str,
    cases: list[harness.Case],
    settings: harness.ServiceSettings,
    secrets: harness.Secrets,
) -> list[harness.CaseResult]:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    timeout = _env_float("EVAL_TIMEOUT") or 60.0
    judge, judge_name = harness.make_judge(settings, dict(os.environ))
    ctx = harness.CheckContext(secrets=secrets, offered_tools=harness.offered_tools())

    def progress(done: int, total: int, result: harness.CaseResult) -> None:
        verdict = "PASS" if result.passed else "FAIL"
        _write(
            config, f"[{done:>3}/{total}] {verdict} {result.case.key} ({result.latency_ms:.0f} ms)"
        )

    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=timeout) as http:
        try:
            return await harness.run_cases(
                harness.ServiceClient(http),
                cases,
                ctx,
                concurrency=int(_env_float("EVAL_CONCURRENCY") or 4),
                grade=judge.grade if judge else None,
                why_no_judge=judge_name,
                progress=progress,
            )
        finally:
            if judge is not None:
                await judge.model.aclose()


@pytest.fixture(scope="session")
def eval_results(request: pytest.FixtureRequest) -> dict[str, harness.CaseResult]:
    """Every selected case's result, by case key (run once, on first use)."""
    config = request.config
    cases = [
        cast(harness.Case, item.callspec.params["case"])
        for item in request.session.items
        if isinstance(item, pytest.Function)
        and hasattr(item, "callspec")
        and "case" in item.callspec.params
    ]
    try:
        settings = harness.load_settings()
    except harness.ConfigError as error:
        raise pytest.UsageError(str(error)) from None
    out_dir = Path(os.environ.get("EVAL_OUT_DIR") or harness.EVALS_DIR / "out")
    base_url = os.environ.get("EVAL_BASE_URL", "").rstrip("/")
    api_key = os.environ.get("EVAL_API_KEY", "")
    extra = {"EVAL_API_KEY": api_key}
    with ExitStack() as stack:
        if base_url:
            url, target = base_url, base_url
        else:
            service_env: dict[str, str] = {}
            if not settings.api_keys:
                # Auth on, and one more configured secret the answers must never show.
                api_key = api_key or harness.new_api_key()
                service_env["API_KEYS"] = api_key
                extra["API_KEYS[0]"] = api_key
            api_key = api_key or settings.api_keys[0]
            url = stack.enter_context(harness.local_service(service_env, out_dir / "service.log"))
            target = f"a service started by make eval (python -m {harness.PACKAGE})"
        _write(config, f"eval: {len(cases)} cases against {target}")
        secrets = harness.configured_secrets(settings, extra)
        results = asyncio.run(
            _run(config, url=url, api_key=api_key, cases=cases, settings=settings, secrets=secrets)
        )
    model = os.environ.get("EVAL_MODEL") or settings.model_name
    config.stash[RUN] = EvalRun(results, model, target, secrets, out_dir)
    return {result.case.key: result for result in results}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    run = session.config.stash.get(RUN, None)
    if run is None:
        return
    prices = harness.Prices(
        _env_float("EVAL_PRICE_INPUT_PER_MTOK"), _env_float("EVAL_PRICE_OUTPUT_PER_MTOK")
    )
    report = harness.build_report(
        run.results, model=run.model, target=run.target, secrets=run.secrets, prices=prices
    )
    critical = [f for r in run.results for f in r.failures if f.critical]
    if os.environ.get("EVAL_RECORD_BASELINE") == "1" and not critical:
        harness.record_baseline(report)
        run.reasons = None
    else:
        overrides = {
            key: value
            for key, value in {
                "margin": _env_float("EVAL_MARGIN"),
                "token_growth": _env_float("EVAL_TOKEN_GROWTH"),
                "total_tokens": _env_float("EVAL_MAX_TOKENS"),
                "latency_p95_ms": _env_float("EVAL_MAX_LATENCY_P95_MS"),
            }.items()
            if value is not None
        }
        run.reasons = harness.gate(report, harness.load_baseline(), overrides)
        if os.environ.get("EVAL_RECORD_BASELINE") == "1":
            run.reasons.insert(0, "baseline NOT recorded: a run with critical failures")
    report["gate"] = {"passed": not run.reasons, "reasons": run.reasons or []}
    run.report = report
    run.out_dir.mkdir(parents=True, exist_ok=True)
    (run.out_dir / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    (run.out_dir / "summary.md").write_text(harness.markdown_summary(report, run.reasons))
    # The gate decides: failed cases within the margin pass, a gate reason fails.
    if exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED if run.reasons else pytest.ExitCode.OK


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    run = config.stash.get(RUN, None)
    if run is None or not run.report:
        return
    report = run.report
    write = terminalreporter.write_line
    terminalreporter.section("eval summary")
    for name, s in report["sets"].items():
        write(f"{name}: {s['passed']}/{s['cases']} passed ({s['pass_rate']:.1%})")
    latency = report["latency_ms"]
    cost = "n/a" if report["cost_usd"] is None else f"${report['cost_usd']:.4f}"
    write(
        f"tokens {report['tokens']['input']} in / {report['tokens']['output']} out; "
        f"latency p50 {latency['p50']:.0f} ms, p95 {latency['p95']:.0f} ms; cost {cost}"
    )
    write(f"reports: {run.out_dir}/report.json, {run.out_dir}/summary.md")
    if run.reasons is None:
        write(f"baseline recorded for model {run.model!r}: {harness.BASELINE_FILE}")
    elif run.reasons:
        write("eval gate: FAILED", red=True, bold=True)
        for reason in run.reasons:
            write(f"  - {reason}", red=True)
    else:
        failed = report["cases"] - report["passed"]
        within = f" ({failed} failed within the baseline's margin)" if failed else ""
        write(f"eval gate: passed{within}", green=True)
