"""Pure domain rules: no I/O, no clock reads (now is always a parameter)."""
