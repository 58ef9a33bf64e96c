"""lite-agent-with-the-longest-allowed-name: an LLM agent service."""

__version__ = "0.1.0"
