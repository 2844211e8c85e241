"""How the fuzz server runs: short conversion and render timeouts so a hostile file costs seconds, not minutes;
every request must be answered within TIMEOUT (the two timeouts, queueing included, plus a margin)."""
from __future__ import annotations

SERVER_SETTINGS = {"PAGETURN_OFFICE_TIMEOUT": "20s", "PAGETURN_RENDER_TIMEOUT": "20s", "PAGETURN_LOG_LEVEL": "warning"}
TIMEOUT = 60.0
SERVER_PEAK = 1 << 30   # bytes resident in the server process, at most
CHILD_PEAK = 3 << 29    # in any one render worker or LibreOffice process (1.5 GiB), at most
