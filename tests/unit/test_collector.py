"""The serving process's cyclic collector (serving/worker.py `quiet_collector`): startup's
objects frozen, young collections after 10,000 net allocations, and cycles still collected.
Run in a child interpreter: freezing the test process's own objects would change the suite."""

from __future__ import annotations

import subprocess
import sys

_CHILD = """
import gc, weakref
from pilotgate.serving.worker import quiet_collector

class Node:
    pass

quiet_collector()
print(gc.get_threshold()[0], gc.get_freeze_count() > 0)
a, b = Node(), Node()
a.other, b.other = b, a  # a cycle: reference counting alone never frees it
gone = weakref.ref(a)
del a, b
kept = [[] for _ in range(5_000)]
print(gone() is None)  # not yet: 5,000 allocations are under the threshold
kept += [[] for _ in range(10_000)]
print(gone() is None)  # past it: the collector ran by itself and freed the cycle
"""


def test_startup_frozen_and_young_collections_rarer_but_cycles_still_freed() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split("\n")
    assert out[:4] == ["10000 True", "False", "True", ""]
