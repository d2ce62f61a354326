"""The seccomp filter bubblewrap installs before the bootstrap runs: a deny-list of system calls.

The uid drop and the namespaces already keep a child away from the host; this closes what they
leave open to the kernel itself: tracing other processes, new namespaces (`unshare -r` would give
root in a nested user namespace), mounts, keyrings, BPF, io_uring, kernel modules and the like.
Denied calls fail with EPERM, so Python raises a PermissionError the visitor can read.

Sockets: the child is handed its listener and connections, so it may make Unix sockets only
(asyncio's self-pipe, multiprocessing). Others could hold kernel memory outside its memory
cgroup: a UDP socket's receive buffer, filled from a second one, held gigabytes. What Unix
sockets hold is counted in the cgroup (docs/security.md), and their buffers stay at the
machine's defaults (no SO_SNDBUF, SO_RCVBUF), and
the socket ioctls that read interfaces, routes and ARP entries (0x89xx, 0x8Bxx) are refused on
every descriptor: the listener belongs to the host's network namespace.

A system call of another ABI (i386's `int 0x80`, x32) is not one these rules know, so the filter
kills the process that makes one: the whole process, not only the calling thread (libseccomp's
default), which left an app without the thread serving a request, hanging instead of failed.

The filter is compiled once with libseccomp (pyseccomp over Debian's libseccomp2) and handed to
bubblewrap as raw BPF on a pipe (`--seccomp FD`). Without libseccomp there is no filter, and the
host says so.
"""

import errno
import logging
import os
import tempfile

log = logging.getLogger(__name__)

DENIED = (
    # other processes' memory and state
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kcmp",
    "pidfd_getfd",
    # namespaces and filesystems
    "unshare",
    "setns",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    "open_by_handle_at",
    "name_to_handle_at",
    # kernel attack surface no Flask app needs
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "keyctl",
    "add_key",
    "request_key",
    "fanotify_init",
    "lookup_dcookie",
    # sockets that go somewhere: the listener and each connection the host passes in belong to
    # the host's network namespace, and connect(AF_UNSPEC) turns one back into a fresh socket
    # there (so one could reach the host's own port and other sandboxes'). New sockets are in
    # the sandbox's empty namespace, where these calls would reach nothing anyway.
    "connect",
    "bind",
    "listen",
    "sendmmsg",
    # the machine itself
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "quotactl",
    "syslog",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "iopl",
    "ioperm",
    "vhangup",
    "uselib",
    "personality",
)

# sendto()/sendmsg() with this flag connect a TCP socket as they send (TCP Fast Open).
MSG_FASTOPEN = 0x20000000
FLAGS_ARGUMENT = {"sendto": 3, "sendmsg": 2}

# The only family of socket a child may make (socket(), socketpair()).
AF_UNIX = 1
# setsockopt(SOL_SOCKET, ...) options that would grow a socket's buffers past the defaults, up to
# net.core.wmem_max and rmem_max (the FORCE ones need CAP_NET_ADMIN, refused all the same).
SOL_SOCKET = 1
BUFFER_OPTIONS = {"SO_SNDBUF": 7, "SO_RCVBUF": 8, "SO_SNDBUFFORCE": 32, "SO_RCVBUFFORCE": 33}
# ioctl() request ranges (low byte free): socket configuration (SIOCGIFCONF, SIOCGIFHWADDR,
# routes, ARP, bridges, device-private) and wireless extensions.
SOCKET_IOCTLS = (0x8900, 0x8B00)
# The kernel reads these arguments as 32-bit ints and ignores the upper half of the register:
# comparing only the lower half means setting the upper bits cannot slip past a rule.
INT = 0xFFFFFFFF

# clone() with any of these flags makes a new namespace.
CLONE_NEW = {
    "CLONE_NEWNS": 0x00020000,
    "CLONE_NEWCGROUP": 0x02000000,
    "CLONE_NEWUTS": 0x04000000,
    "CLONE_NEWIPC": 0x08000000,
    "CLONE_NEWUSER": 0x10000000,
    "CLONE_NEWPID": 0x20000000,
    "CLONE_NEWNET": 0x40000000,
}

WARNING = (
    "libseccomp is not available (apt-get install libseccomp2; pip install pyseccomp): "
    "sandboxes run without a seccomp filter, so a snippet can use ptrace, unshare and "
    "other system calls that widen what a kernel bug would let it reach."
)


def compile_filter() -> bytes | None:
    """The filter as raw BPF, or None (with a warning) where libseccomp is missing."""
    try:
        import pyseccomp as seccomp

        rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
        rules.set_attr(seccomp.Attr.ACT_BADARCH, seccomp.KILL_PROCESS)
        denied = seccomp.ERRNO(errno.EPERM)
        for name in DENIED:
            try:
                rules.add_rule(denied, name)
            except (ValueError, RuntimeError, OSError):
                pass  # not a system call on this architecture
        for name, argument in FLAGS_ARGUMENT.items():
            rules.add_rule(
                denied, name, seccomp.Arg(argument, seccomp.MASKED_EQ, MSG_FASTOPEN, MSG_FASTOPEN)
            )
        for name in ("socket", "socketpair"):  # NE on all 64 bits: stray upper bits are refused
            rules.add_rule(denied, name, seccomp.Arg(0, seccomp.NE, AF_UNIX))
        for option in BUFFER_OPTIONS.values():
            rules.add_rule(
                denied,
                "setsockopt",
                seccomp.Arg(1, seccomp.MASKED_EQ, INT, SOL_SOCKET),
                seccomp.Arg(2, seccomp.MASKED_EQ, INT, option),
            )
        for first in SOCKET_IOCTLS:
            rules.add_rule(denied, "ioctl", seccomp.Arg(1, seccomp.MASKED_EQ, INT & ~0xFF, first))
        for flag in CLONE_NEW.values():
            rules.add_rule(denied, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
        # clone3 passes its flags in memory a filter cannot read: ENOSYS makes glibc fall back to
        # clone(), whose flags the rules above see.
        rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
        with tempfile.TemporaryFile() as out:
            rules.export_bpf(out)
            out.seek(0)
            return out.read()
    except (ImportError, OSError, RuntimeError) as exc:
        log.warning("%s (%s)", WARNING, exc)
        return None


def pipe_with(program: bytes) -> int:
    """A pipe's read end holding `program`, for `bwrap --seccomp FD` (it reads to the end)."""
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, program)  # a few KB: fits in the pipe's buffer
    finally:
        os.close(write_end)
    return read_end
