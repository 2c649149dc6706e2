"""Child processes that never outlive the process that started them.

A run starts helpers (the extraction sandbox, the PDF worker, a local LLM server). When the
process that started one dies (SIGKILL, the OOM killer, a pool worker terminated after a failed
task), the helper must go too: an orphan keeps CPU, memory and inherited pipe ends, and whoever
reads the run's output (a shell pipe, a test, Airflow) waits for an EOF that never comes.
"""
import os
import signal
import sys


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """In a child (Linux): receive `sig` when the parent dies (PR_SET_PDEATHSIG); exit now if it
    already has. Elsewhere a no-op."""
    if sys.platform != "linux":
        return
    parent = os.getppid()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(sig))  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the call
        os._exit(1)
