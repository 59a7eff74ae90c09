"""Rendering in a worker process, under a time and a memory limit.

A document laid out from hostile values (a megabyte-long word, a thousand-row table) can
take minutes and gigabytes in WeasyPrint. So layout never runs in the watcher's own
process: a ``RenderWorker`` is a child Python process (``python -m resdesk.render.worker``)
that renders one document at a time. Its address space is capped (``RLIMIT_AS``) once it has
loaded WeasyPrint, and a render that has not answered within the time limit has its process
killed; the next render starts a fresh one. Either way the caller gets a ``RenderError``
naming the limit, and nothing else in the calling process is disturbed.

Each worker is independent, so a pool is simply several of them: ``RenderWorker`` holds no
global state. ``RenderPool`` shares up to one worker per core (``worker_count``) among threads:
a render takes an idle worker, starts another while all are busy and fewer than the pool's size
run, and otherwise waits its turn; workers stay started, so a long-running watcher renders a
burst of acknowledgements on every core without starting anything. ``default_pool()`` is the
pool the product's own render calls share.

The protocol on the pipe is length-prefixed pickles (both ends are this module): a request
``(task, args, kwargs)``; an answer ``("ok", value)``, ``("refused", url, reason)`` or
``("error", sentence)``. Tasks are looked up by name in ``TASKS``; nothing else can be run.
"""

from __future__ import annotations

import atexit
import importlib
import os
import pickle
import struct
import subprocess
import sys
import threading
from dataclasses import dataclass
from typing import Any, BinaryIO

from resdesk.errors import RenderError

__all__ = ["RenderLimits", "RenderPool", "RenderWorker", "TASKS", "configure_default_pool", "default_pool", "worker_count"]

# Task name -> "module:function", run inside the worker.
TASKS = {
    "pdf": "resdesk.render.html:write_pdf_in_this_process",
}
_HEADER = struct.Struct("!Q")
STARTUP_SECONDS = 120


@dataclass(frozen=True)
class RenderLimits:
    """How long one render may take (seconds of wall time) and how much memory the worker may
    hold (MiB of address space, including the ~300 MiB WeasyPrint itself maps)."""

    seconds: float = 60.0
    memory_mb: int = 1024


def _write(stream: BinaryIO, value: object) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _read(stream: BinaryIO) -> Any:
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        raise EOFError("the other end closed the pipe")
    (size,) = _HEADER.unpack(head)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("the other end closed the pipe mid-message")
    return pickle.loads(data)


class RenderWorker:
    """One render process, started on first use and restarted after it is stopped.

    ``run(task, *args, **kwargs)`` returns the task's value or raises ``RenderError``
    (``RefusedURL`` when the document asked for a forbidden resource). Thread-safe: calls
    from several threads take turns.
    """

    def __init__(self, limits: RenderLimits | None = None) -> None:
        self.limits = limits or RenderLimits()
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The worker process's id while it runs."""
        return self._process.pid if self._process is not None and self._process.poll() is None else None

    def _start(self) -> subprocess.Popen[bytes]:
        if self._process is not None and self._process.poll() is None:
            return self._process
        memory = str(self.limits.memory_mb * 1024 * 1024)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "resdesk.render.worker", memory],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            close_fds=True,
        )
        # Start-up (loading WeasyPrint, a first layout) is not counted against a document's time.
        answer = self._within(self._process, STARTUP_SECONDS)
        if answer is None or answer[0] != "ready":
            self._stop()
            raise RenderError(f"The render worker did not start within {STARTUP_SECONDS} s.")
        return self._process

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()

    def close(self) -> None:
        """Stop the worker process, if one runs."""
        with self._lock:
            self._stop()

    def run(self, task: str, *args: object, **kwargs: object) -> Any:
        if task not in TASKS:
            raise RenderError(f"There is no render task {task!r}.")
        with self._lock:
            process = self._start()
            try:
                _write(process.stdin, (task, args, kwargs))
            except (BrokenPipeError, OSError):
                self._stop()
                process = self._start()
                _write(process.stdin, (task, args, kwargs))
            answer = self._answer(process)
        status, *rest = answer
        if status == "ok":
            return rest[0]
        if status == "refused":
            from .fetcher import RefusedURL

            raise RefusedURL(*rest)
        raise RenderError(rest[0])

    def _within(self, process: subprocess.Popen[bytes], seconds: float) -> tuple | None:
        """The worker's next answer, or None (and the worker stopped) when none comes in time."""
        ready: list[tuple] = []
        reader = threading.Thread(target=lambda: ready.append(self._receive(process)), daemon=True)
        reader.start()
        reader.join(seconds)
        if reader.is_alive():
            self._stop()  # killing it closes its pipe, which ends the reader too
            reader.join()
            return None
        return ready[0] if ready else ("died", None)

    def _answer(self, process: subprocess.Popen[bytes]) -> tuple:
        answer = self._within(process, self.limits.seconds)
        if answer is None:
            raise RenderError(
                f"The document took longer than {self.limits.seconds:g} s to render "
                "(limits.render_seconds); its render worker was stopped."
            )
        if answer[0] == "died":
            self._stop()
            raise RenderError(
                f"The render worker stopped while rendering, most likely past its memory limit of "
                f"{self.limits.memory_mb} MiB (limits.render_memory_mb)."
            )
        return answer

    @staticmethod
    def _receive(process: subprocess.Popen[bytes]) -> tuple:
        try:
            return _read(process.stdout)
        except (EOFError, OSError, ValueError, pickle.UnpicklingError):
            return ("died", None)


def worker_count() -> int:
    """One render worker per core this process may use, at most four (each maps about 300 MiB)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return max(1, min(4, cores))


class RenderPool:
    """Up to ``size`` render workers shared by threads (see the module's notes).

    ``run(task, *args, **kwargs)`` is ``RenderWorker.run`` on an idle worker: same value, same
    ``RenderError``. Thread-safe; ``size`` renders run at once, the rest wait their turn.
    """

    def __init__(self, limits: RenderLimits | None = None, size: int | None = None) -> None:
        self.limits = limits or RenderLimits()
        self.size = size or worker_count()
        self._ready = threading.Condition()
        self._idle: list[RenderWorker] = []
        self._started: list[RenderWorker] = []

    def run(self, task: str, *args: object, **kwargs: object) -> Any:
        worker = self._take()
        try:
            return worker.run(task, *args, **kwargs)
        finally:
            with self._ready:
                self._idle.append(worker)
                self._ready.notify()

    def _take(self) -> RenderWorker:
        """The worker used last among the idle ones (its process is warm), a new one while fewer than
        ``size`` exist, or the next to come free."""
        with self._ready:
            while True:
                if self._idle:
                    return self._idle.pop()
                if len(self._started) < self.size:
                    worker = RenderWorker(self.limits)
                    self._started.append(worker)
                    return worker
                self._ready.wait()

    @property
    def pids(self) -> list[int]:
        """The process ids of the pool's running workers."""
        with self._ready:
            return [pid for pid in (w.pid for w in self._started) if pid is not None]

    def close(self) -> None:
        """Stop every worker's process (each starts again when next used)."""
        with self._ready:
            workers = list(self._started)
        for worker in workers:
            worker.close()


_default: RenderPool | None = None
_default_lock = threading.Lock()


def default_pool() -> RenderPool:
    """The render workers the product's own render calls share (default limits until configured)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = RenderPool()
        return _default


def configure_default_pool(limits: RenderLimits) -> None:
    """Use ``limits`` for the shared workers from now on (the shell passes the settings' limits)."""
    global _default
    with _default_lock:
        if _default is not None and _default.limits == limits:
            return
        old, _default = _default, RenderPool(limits)
    if old is not None:
        old.close()


@atexit.register
def _close_default() -> None:
    if _default is not None:
        _default.close()


def _serve(memory_bytes: int) -> None:
    """The worker's loop: load every task's module, cap memory, answer requests until EOF."""
    import resource

    functions = {}
    for name, target in TASKS.items():
        module, _, function = target.partition(":")
        functions[name] = getattr(importlib.import_module(module), function)
    # Warm the renderer up before the cap, so the cap bounds the document, not the start-up.
    functions["pdf"]("<p>warm</p>")
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing a library prints may corrupt the pipe
    from .fetcher import RefusedURL

    _write(stdout, ("ready",))
    while True:
        try:
            task, args, kwargs = _read(stdin)
        except EOFError:
            return
        try:
            answer: tuple = ("ok", functions[task](*args, **kwargs))
        except RefusedURL as exc:
            answer = ("refused", exc.url, exc.reason)
        except MemoryError:
            answer = ("error", "The document needs more memory than the render worker may use "
                               "(limits.render_memory_mb).")
        except RenderError as exc:
            answer = ("error", str(exc))
        except Exception as exc:  # noqa: BLE001 - any library failure becomes one sentence
            answer = ("error", f"The document could not be rendered ({type(exc).__name__}: {exc}).")
        try:
            _write(stdout, answer)
        except MemoryError:
            _write(stdout, ("error", "The rendered document is larger than the render worker may hold."))


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
