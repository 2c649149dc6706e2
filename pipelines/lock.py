"""One `curate run` at a time in a run folder.

Two runs into one folder would run the same tasks on the same temporary names, and one would
die or hang. The first takes an advisory lock (`flock`) on `<output>/logs/.lock`; a second gets
a clear error instead. The kernel drops the lock when its holder dies, even by SIGKILL, so a
resume after a crash never finds a stale lock. With the lock held, temporary names can stay
deterministic (`.tmp-part-00003.parquet`): a task redone after a kill overwrites its own
leftover instead of leaving an orphan next to it. Remote stores (`s3://`...) have no such
locks: there the lock is skipped, as the README says.
"""
import fcntl
import os
from contextlib import contextmanager
from pathlib import Path

from datatrove.io import get_datafolder

from curate.errors import ConfigError


class FolderInUse(ConfigError):
    """Another process is running into this run folder."""


@contextmanager
def run_folder_lock(output: str):
    folder = get_datafolder(output)
    if not folder.is_local():
        yield
        return
    path = Path(folder.path) / "logs" / ".lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise FolderInUse(f"{output} is in use by another curate run (pid {holder}): wait for it to finish, "
                              "or use another --output") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        os.set_inheritable(fd, False)
        yield
    finally:
        os.close(fd)  # closing the last descriptor releases the lock
