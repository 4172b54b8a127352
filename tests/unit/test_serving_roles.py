"""What each forked worker runs (serving/supervisor.py `roles`): `serve --workers N` keeps
one pipeline whatever N, `worker --workers N` runs N, `api` none."""

from __future__ import annotations

import pytest

from pilotgate.serving.supervisor import roles


@pytest.mark.parametrize(
    ("workers", "api", "pipeline", "expected"),
    [
        # serve --workers N: a worker of its own for the pipeline, the API in the others.
        (2, True, True, [(False, True), (True, False)]),
        (4, True, True, [(False, True), (True, False), (True, False), (True, False)]),
        # serve (one process) keeps both in it.
        (1, True, True, [(True, True)]),
        # serve --workers N --no-pipeline, api --workers N: the API only.
        (3, True, False, [(True, False)] * 3),
        # worker --workers N: N pipelines (claims are safe between them).
        (2, False, True, [(False, True)] * 2),
    ],
)
def test_one_pipeline_in_serve_whatever_the_workers(
    workers: int, api: bool, pipeline: bool, expected: list[tuple[bool, bool]]
) -> None:
    assert roles(workers, api, pipeline) == expected
