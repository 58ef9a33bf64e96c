"""The framework-independent agent core: model client, tools, loop, budget."""
