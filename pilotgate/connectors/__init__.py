"""Connectors: how messages leave the gateway. `base.Connector` is the interface."""
