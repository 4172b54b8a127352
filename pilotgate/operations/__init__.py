"""The operator's use cases, one home for the CLI and the console: accounts (create, credit,
block, settings, API keys), sender names and their verdicts, tariffs, connectors, routes,
numbers, stop lists and password changes.

Every function takes the `Gateway` it works through and the actor ("cli", "config",
"operator:<email>" or "customer:<email>": domain.audit) and records each change it makes in
the audit trail. The rules a value is held to (domain.registration) are applied here, once:
the CLI and the console only turn their input into arguments and `InputError` into their
kind of message.
"""
