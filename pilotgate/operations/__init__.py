"""Operator use cases, shared by the CLI and the console."""
