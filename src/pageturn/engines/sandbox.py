"""How an engine starts a process that parses untrusted documents: in a sandbox when the machine allows it.

    isolation = Isolation.detect("auto", probe_dir, what="LibreOffice")
    argv = isolation.command(home, [program, ...], read_only=[extra_file])
    subprocess.Popen(argv, env=clean_env(home), ...)

Modes, strongest first: "sandbox" (bubblewrap: no network, private /tmp, pid and IPC namespaces, only /usr,
/etc (secrets masked) and the process's own `home` visible), "network" (unshare --net: no network, but local
files readable), "none" (as is, with a warning). The environment is rebuilt from nothing (`clean_env`), so no
secret or proxy setting of the server reaches the process.
"""
from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Iterable
from pathlib import Path

from .errors import SandboxUnavailable

log = logging.getLogger(__name__)

MODES = ("sandbox", "network", "none")


class Isolation:
    """How an engine process is started: "sandbox" (bubblewrap), "network" (unshare --net) or "none"."""

    MASKED = ("/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-", "/etc/ssh", "/etc/ssl/private")

    def __init__(self, mode: str):
        if mode not in MODES:
            raise ValueError(f"unknown isolation {mode!r}")
        self.mode = mode

    @classmethod
    def detect(cls, wanted: str, probe_dir: Path, *, what: str = "the engine") -> "Isolation":
        """`wanted`: auto | sandbox | network | none. auto takes the strongest that works here."""
        order = {"auto": ["sandbox", "network", "none"], "sandbox": ["sandbox"], "network": ["network"],
                 "none": ["none"]}.get(wanted)
        if order is None:
            raise ValueError(f"unknown isolation {wanted!r}")
        for mode in order:
            candidate = cls(mode)
            if mode == "none" or candidate._works(probe_dir):
                if mode != order[0] or mode == "none":
                    log.warning("%s runs with isolation %r: %s", what, mode,
                                "documents can reach the network and local files" if mode == "none"
                                else "documents cannot reach the network but can read local files")
                return candidate
        raise SandboxUnavailable(f"isolation {wanted!r} is not possible on this machine")

    def _works(self, probe_dir: Path) -> bool:
        try:
            result = subprocess.run(self.command(probe_dir, ["/usr/bin/true"]), capture_output=True, timeout=30,
                                    env=clean_env(probe_dir))
        except (OSError, subprocess.TimeoutExpired):
            return False
        return result.returncode == 0

    def command(self, home: Path, argv: list[str], *, read_only: Iterable[Path] = ()) -> list[str]:
        """`argv` wrapped so that it runs isolated, seeing `home` (read-write) and the `read_only` files."""
        if self.mode == "network":
            return ["unshare", "--net", "--", *argv]
        if self.mode != "sandbox":
            return argv
        args = ["bwrap", "--die-with-parent", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
                "--cap-drop", "ALL", "--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc",
                "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
        for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
            path = Path("/", name)
            if path.is_symlink():
                args += ["--symlink", os.readlink(path), str(path)]
            elif path.is_dir():
                args += ["--ro-bind", str(path), str(path)]
        for secret in self.MASKED:
            if os.path.isdir(secret):
                args += ["--tmpfs", secret]
            elif os.path.exists(secret):
                args += ["--ro-bind", "/dev/null", secret]
        if os.path.isdir("/var/cache/fontconfig"):  # without the font cache every start rescans all fonts
            args += ["--ro-bind", "/var/cache/fontconfig", "/var/cache/fontconfig"]
        args += ["--bind", str(home), str(home)]
        for path in read_only:
            args += ["--ro-bind", str(path), str(path)]
        return args + ["--chdir", str(home), "--", *argv]


def clean_env(home: Path) -> dict[str, str]:
    """An engine process gets no variable of the server's (no secrets, no proxies), only what it needs."""
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", "SAL_USE_VCLPLUGIN": "svp"}
