"""Who holds a lease: a name for this process, and whether another holder still runs.

A holder is named ``host:pid:tag``. A lease held by a process on this host that
has exited (or is a zombie) can be taken over at once instead of waited out.
"""

from __future__ import annotations

import os
import socket


def holder_name(tag: object) -> str:
    """This process's name as a lease holder; ``tag`` tells its holders apart."""
    return f"{socket.gethostname()}:{os.getpid()}:{tag}"


def holder_is_gone(holder: str) -> bool:
    """True when ``holder`` names a process on this host that has exited."""
    host, _, rest = holder.partition(":")
    pid_text = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    return process_ended(int(pid_text))


def process_ended(pid: int) -> bool:
    """True when no process on this host has ``pid`` any more, or it is a zombie (never this process)."""
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # running, as another user
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return False
