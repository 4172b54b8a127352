"""The store, written once for SQLite and PostgreSQL over a small driver (driver.py); the
dialect packages add only what differs."""
