from __future__ import annotations

from pilotgate.cli import main

main()
