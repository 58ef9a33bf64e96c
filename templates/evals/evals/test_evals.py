"""One test per case of evals/golden.jsonl and evals/redteam.jsonl (run with ``make eval``)."""

from __future__ import annotations

import pytest

from evals import harness

CASES = harness.load_cases()


@pytest.mark.parametrize("case", CASES, ids=[case.key for case in CASES])
def test_case(case: harness.Case, eval_results: dict[str, harness.CaseResult]) -> None:
    result = eval_results[case.key]
    if not result.passed:
        pytest.fail(result.explain(), pytrace=False)
