"""The agent, framework- and HTTP-independent: model client, fake model, tools, loop, budget."""
