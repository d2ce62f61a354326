"""sandbox/hostblock.py: blocks of sandbox uids held with a lock, so that no two live hosts share
one, and what a dead host left is known as stale."""

import os
import select
import subprocess
import sys

import pytest

from playground.sandbox.hostblock import UIDS_PER_HOST, HostBlock

UID_BASE = 100_000
# Another host: a process holding a block until its stdin closes.
HOLDER = (
    "import sys\nfrom playground.sandbox.hostblock import HostBlock\n"
    "block = HostBlock(0)\nprint(block.number, flush=True)\nsys.stdin.read()\n"
)


@pytest.fixture
def blocks():
    """Blocks held by this process, each released after the test."""
    held = []

    def take() -> HostBlock:
        held.append(HostBlock(UID_BASE))
        return held[-1]

    yield take
    for block in held:
        block.release()


@pytest.fixture
def other_host():
    """(pid, block number) of another process holding a block, and a way to end it."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    ready, _, _ = select.select([proc.stdout], [], [], 20)
    assert ready, "the other host did not take a block within 20 s"
    number = int(proc.stdout.readline())

    def end() -> None:
        proc.stdin.close()
        proc.wait(10)

    yield proc.pid, number, end
    if proc.poll() is None:
        end()
    proc.stdout.close()


def test_hosts_in_one_process_never_share_a_block(blocks):
    first, second = blocks(), blocks()
    assert first.number != second.number
    for block in (first, second):
        assert block.uids == range(
            UID_BASE + block.number * UIDS_PER_HOST, UID_BASE + (block.number + 1) * UIDS_PER_HOST
        )
        assert block.name == f"playground-{os.getpid()}-{block.number}"
    assert not set(first.uids) & set(second.uids)


def test_another_process_never_gets_a_block_held_here(blocks, other_host):
    pid, number, _end = other_host
    mine = {blocks().number for _ in range(3)}
    assert number not in mine


def test_a_released_block_is_free_again(blocks):
    block = blocks()
    number = block.number
    block.release()
    block.release()  # shutdown and exit both release: the second does nothing
    assert blocks().number == number


@pytest.mark.parametrize(
    "name", ["", "flask-abc", "playground-x-1", "playground--1", "cgroup-playground"]
)
def test_names_that_are_no_hosts_are_never_stale(blocks, name):
    assert blocks().is_stale(name) is False


def test_a_hosts_own_names_are_not_stale(blocks):
    block = blocks()
    assert not block.is_stale(block.name)
    assert not block.is_stale(f"flask-{block.name}-k2j4h1")  # its working directory


def test_a_dead_hosts_name_for_a_block_now_held_here_is_stale(blocks):
    block = blocks()
    assert block.is_stale(f"playground-{os.getpid() + 1}-{block.number}")


def test_a_block_held_by_a_live_host_is_not_stale(blocks):
    mine, sibling = blocks(), blocks()
    assert not mine.is_stale(f"flask-playground-1-{sibling.number}-x")


def test_another_processs_block_is_stale_once_it_has_died(blocks, other_host):
    pid, number, end = other_host
    mine = blocks()
    name = f"flask-playground-{pid}-{number}-x"
    assert not mine.is_stale(name)
    end()
    assert mine.is_stale(name)
    assert mine.is_stale(name)  # asking took the lock for a moment only


def test_a_free_blocks_names_are_stale_and_asking_keeps_it_free(blocks):
    asker, gone = blocks(), blocks()
    number = gone.number
    gone.release()
    for _ in range(2):  # asking took the lock for a moment only
        assert asker.is_stale(f"playground-1-{number}")
    assert blocks().number == number
