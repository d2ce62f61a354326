"""workers.py: real worker processes, killed past their deadline, replaced, bounded, shut down."""

import os
import threading
import time

import pytest

from playground import workers
from playground.workers import Busy, Failed, Starting, Timeout

# Catastrophic backtracking: pure CPU for far longer than any deadline here, no memory.
SPIN = ("re:match", "(a*)*b", "a" * 40)


@pytest.fixture
def make_pool():
    """Pools that are shut down after the test, and whose workers must then be gone."""
    pools = []

    def make(size=1, queue_size=0, memory_bytes=512 * 1024 * 1024, preload=()):
        pools.append(workers.Pool(size, queue_size, memory_bytes, 30, preload))
        return pools[-1]

    yield make
    for pool in pools:
        pids = pool.pids()
        pool.shutdown()
        assert not [pid for pid in pids if alive(pid)], "a worker outlived its pool"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_call_runs_in_a_worker_process(make_pool):
    pool = make_pool()
    pid = pool.run("os:getpid", timeout=10)
    assert pid != os.getpid()
    assert pool.pids() == [pid]
    assert pool.run("os:getpid", timeout=10) == pid  # the same worker serves again


def test_a_call_past_its_deadline_kills_the_worker_and_the_next_call_works(make_pool):
    pool = make_pool()
    first = pool.run("os:getpid", timeout=10)
    started = time.monotonic()
    with pytest.raises(Timeout):
        pool.run(*SPIN, timeout=0.5)
    assert time.monotonic() - started < 5
    assert not alive(first), "the worker past its deadline was not killed"
    second = pool.run("os:getpid", timeout=10)
    assert second != first
    assert pool.pids() == [second]


def test_a_worker_still_starting_is_not_killed_the_caller_gets_busy(make_pool):
    pool = make_pool(preload=("playground.highlight", "playground.formatting"))
    with pytest.raises(Starting):
        pool.run("os:getpid", timeout=0.001)
    [pid] = pool.pids()
    assert pool.run("os:getpid", timeout=30) == pid


def test_when_every_worker_is_busy_past_the_queue_the_answer_is_busy_at_once(make_pool):
    pool = make_pool(size=1, queue_size=0)
    pool.run("os:getpid", timeout=10)  # warm
    spinner = threading.Thread(target=lambda: pytest.raises(Timeout, pool.run, *SPIN, timeout=3))
    spinner.start()
    time.sleep(0.3)
    started = time.monotonic()
    with pytest.raises(Busy):
        pool.run("os:getpid", timeout=10)
    assert time.monotonic() - started < 1
    spinner.join()


def test_a_queued_call_waits_at_most_its_timeout_for_a_worker(make_pool):
    pool = make_pool(size=1, queue_size=1)
    pool.run("os:getpid", timeout=10)
    spinner = threading.Thread(target=lambda: pytest.raises(Timeout, pool.run, *SPIN, timeout=5))
    spinner.start()
    time.sleep(0.3)
    started = time.monotonic()
    with pytest.raises(Busy, match="no worker was free"):
        pool.run("os:getpid", timeout=0.5)
    assert 0.4 < time.monotonic() - started < 3
    spinner.join()


def test_an_error_in_the_function_is_failed_and_the_worker_stays(make_pool):
    pool = make_pool()
    pid = pool.run("os:getpid", timeout=10)
    with pytest.raises(Failed, match="JSONDecodeError"):
        pool.run("json:loads", "{", timeout=10)
    assert pool.run("os:getpid", timeout=10) == pid


def test_a_worker_cannot_take_more_memory_than_its_limit(make_pool):
    pool = make_pool(memory_bytes=256 * 1024 * 1024)
    with pytest.raises(Failed, match="MemoryError"):
        pool.run("builtins:bytearray", 1024 * 1024 * 1024, timeout=10)
    assert pool.run("builtins:len", "abc", timeout=10) == 3


def test_the_cpu_limit_ends_a_call_nobody_waits_for(make_pool):
    """Should the host stop waiting (or die), the worker's own CPU limit still ends the call."""
    pool = make_pool()
    worker = workers._Worker(pool._argv)
    try:
        worker.wait_until_started(time.monotonic() + 30, 30)
        with pytest.raises(Failed, match="died"):
            worker.call(
                {"function": SPIN[0], "args": SPIN[1:], "cpu_seconds": 1},
                time.monotonic() + 30,
                1 << 20,
            )
        worker.proc.wait(5)
        assert worker.proc.returncode == -24  # SIGXCPU
    finally:
        worker.kill(close=True)


def test_a_worker_exits_when_the_host_closes_its_pipe(make_pool):
    pool = make_pool()
    worker = workers._Worker(pool._argv)
    worker.proc.stdin.close()
    assert worker.proc.wait(10) == 0
    worker.kill(close=True)


def test_shutdown_kills_every_worker_and_refuses_later_calls(make_pool):
    pool = make_pool(size=2)
    spinner = threading.Thread(
        target=lambda: pytest.raises(workers.Unavailable, pool.run, *SPIN, timeout=30)
    )
    spinner.start()
    pool.run("os:getpid", timeout=10)
    time.sleep(0.3)
    pids = pool.pids()
    assert len(pids) == 2
    pool.shutdown()
    spinner.join(5)
    assert not spinner.is_alive(), "a call on a worker killed at shutdown did not return"
    assert not [pid for pid in pids if alive(pid)]
    with pytest.raises(Failed, match="shutting down"):
        pool.run("os:getpid", timeout=10)
    assert pool.pids() == []


def test_workers_carry_the_host_pid_in_their_command_line(make_pool):
    pool = make_pool()
    pid = pool.run("os:getpid", timeout=10)
    with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
        argv = cmdline.read().split(b"\0")
    assert argv[argv.index(workers.MARKER.encode()) + 1] == str(os.getpid()).encode()
