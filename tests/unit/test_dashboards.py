"""The alert rules and the Grafana dashboard in deploy/ (issue 18, item 7) name only
metrics the gateway exports, and the dashboard shows every one of them. (promtool checks the
rules themselves: tests/acceptance/test_deploy.py.)"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pilotgate.pipeline import metrics

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
#: Prometheus's own series, which the rules may name too.
PROMETHEUS_OWN = {"up"}


def _exported() -> set[str]:
    """The series names of every metric the gateway registers."""
    names = set()
    for family in metrics.REGISTRY.collect():
        if family.type == "counter":
            names |= {family.name + "_total", family.name + "_created"}
        else:
            names.add(family.name)
    return names


def _metrics_in(expression: str) -> set[str]:
    # Words that are metric names: not label names (followed by =, ~ or inside by (...)),
    # not functions (followed by "(").
    cleaned = re.sub(r"\{[^}]*\}|\b(?:by|without)\s*\([^)]*\)|\[[^\]]*\]", " ", expression)
    return {
        word
        for word in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*(?!\s*\()", cleaned)
        if word.startswith("pilotgate_") or word in PROMETHEUS_OWN
    }


def _rule_expressions() -> Iterator[str]:
    text = (DEPLOY / "prometheus/alerts.yml").read_text(encoding="utf-8")
    # The file's one shape: `expr: ONE LINE` or `expr: >` and an indented block.
    for found in re.finditer(r"^( *)expr: (?:>\n((?:\1  .*\n)+)|(.+)\n)", text, re.M):
        yield found.group(2) or found.group(3)


def _dashboard_expressions(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "expr":
                yield value
            else:
                yield from _dashboard_expressions(value)
    elif isinstance(node, list):
        for item in node:
            yield from _dashboard_expressions(item)


def test_the_rules_and_the_dashboard_name_only_metrics_we_export() -> None:
    exported = _exported() | PROMETHEUS_OWN
    dashboard = json.loads((DEPLOY / "grafana/pilotgate.json").read_text(encoding="utf-8"))
    rules = list(_rule_expressions())
    panels = list(_dashboard_expressions(dashboard))
    assert len(rules) >= 8 and len(panels) >= 10
    for expression in rules + panels:
        named = _metrics_in(expression)
        assert named, expression
        assert named <= exported, (expression, named - exported)
    # The dashboard shows every metric there is (except the counters' creation times).
    shown = set().union(*map(_metrics_in, panels))
    assert {name for name in _exported() if not name.endswith("_created")} <= shown
