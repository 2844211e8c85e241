"""Where the time of day comes from. Services take a Clock in their constructor (default: the system clock) so the
tests can move time forward instead of sleeping through lifetimes."""
from __future__ import annotations

import time
from typing import Callable

Clock = Callable[[], float]  # seconds since the epoch, as time.time()

system_clock: Clock = time.time
