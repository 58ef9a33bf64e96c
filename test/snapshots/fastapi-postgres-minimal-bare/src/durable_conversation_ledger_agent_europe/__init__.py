"""durable-conversation-ledger-agent-europe: an LLM agent service."""

__version__ = "0.1.0"
