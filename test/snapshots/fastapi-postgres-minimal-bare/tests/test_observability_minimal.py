from __future__ import annotations

from durable_conversation_ledger_agent_europe import observability
from durable_conversation_ledger_agent_europe.config import Settings


async def test_minimal_stack_is_a_no_op() -> None:
    async def app(scope: object, receive: object, send: object) -> None:
        return None

    settings = Settings(_env_file=None)
    observability.prepare_process_tree(settings)
    observability.setup(settings)
    assert observability.instrument_app(app, settings) is app
    assert observability.metrics_app() is None
    assert observability.current_trace_ids() is None
    with observability.llm_call("m") as llm:
        llm.set_usage(1, 2)
        llm.set_status("error")
    assert (llm.input_tokens, llm.output_tokens, llm.status) == (1, 2, "error")
    with observability.tool_call("t") as tool:
        tool.set_status("ok")
    assert tool.status == "ok"
    observability.record_tokens("m", 1, 2)
    observability.set_budget_ratio(0.5)
    observability.record_response_cache("miss")
    assert observability.run_trace_context() == {}
    with observability.run_span("r1", 1, {}):
        observability.record_queue_wait(1.0)
        observability.record_run("succeeded", 2.0)
        observability.set_queue_depth(3)
    observability.shutdown()
