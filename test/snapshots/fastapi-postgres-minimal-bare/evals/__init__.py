"""Evals and red-team cases for the agent (see the README's Evals section)."""
