"""PostgreSQL's errors become pilotgate's once, at the driver (storage/postgres/driver.py):
the ones after which trying again may succeed are `LockBusyError`, which the migration runner
retries; any other failure stays a plain `StorageError`."""

from __future__ import annotations

import psycopg
import pytest

from pilotgate.errors import ConflictError, LockBusyError, StorageError
from pilotgate.storage.postgres.driver import driver_errors


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (psycopg.errors.UniqueViolation("duplicate key"), ConflictError),
        (psycopg.errors.LockNotAvailable("lock timeout"), LockBusyError),
        (psycopg.errors.DeadlockDetected("deadlock detected"), LockBusyError),
        # Two processes building one index at once: one of them loses this way.
        (psycopg.errors.InternalError_("tuple concurrently updated"), LockBusyError),
        (psycopg.errors.InternalError_("could not read block"), StorageError),
        (psycopg.OperationalError("server closed the connection"), StorageError),
    ],
)
def test_each_driver_error_becomes_its_kind(raised: Exception, expected: type) -> None:
    with pytest.raises(StorageError) as caught, driver_errors():
        raise raised
    assert type(caught.value) is expected
