"""Tasks for tests/test_jobs.py, run in spawned worker processes: a module that imports
nothing heavy, so a worker (re)starts in a fraction of a second."""
import os
import signal
import time


def square_or_die(t):
    """Squares t, after a little work; 5 SIGKILLs its worker, 8 leaves with os._exit(3)."""
    time.sleep(0.02)
    if t == 5:
        os.kill(os.getpid(), signal.SIGKILL)
    if t == 8:
        os._exit(3)
    return t * t


def raise_on_two(t):
    if t == 2:
        raise ValueError(f"no {t}")
    return t


_STATE = None


def set_state(value):
    global _STATE
    _STATE = (value, os.getpid())


def read_state(t):
    return _STATE


def fail_init():
    raise RuntimeError("no simulator here")


def interrupt_self(t):
    """A Ctrl-C reaching a worker while it runs a task: the task goes on."""
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.05)
    return t
