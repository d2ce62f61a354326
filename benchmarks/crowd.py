"""A crowd of apps: N hello-world sandboxes running at once, and what they cost the machine.

The children's memory is their proportional set size (PSS, /proc/<pid>/smaps_rollup: a page
shared by k processes counts 1/k to each), summed over everything the host started: the
zygote, its starters, the jails and the apps. Also their resident size, for comparison, and
what MAX_SANDBOXES comes to on this machine.

    python benchmarks/crowd.py [--sandboxes 300] [--cold]        (as root)
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from burst import descendants  # noqa: E402

from playground import create_app  # noqa: E402
from playground.sandbox.manager import capacity  # noqa: E402
from playground.services import services_of  # noqa: E402

HELLO = (Path(__file__).resolve().parent.parent / "snippets" / "01-hello" / "app.py").read_text()


def rollup(pid: int) -> dict:
    """{"Pss": kB, "Rss": kB} of a process, or {} if it is gone."""
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return {}
    return {line.split(":")[0]: int(line.split()[1]) for line in lines[1:]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sandboxes", type=int, default=300)
    parser.add_argument("--cold", action="store_true", help="without the zygote (WARM_START)")
    args = parser.parse_args()
    app = create_app(
        {
            "WARM_START": not args.cold,
            "MAX_SANDBOXES": args.sandboxes + 10,
            "MAX_SANDBOXES_PER_VISITOR": args.sandboxes,
            "RATE_RUN_BURST": 10**6,
        }
    )
    manager = services_of(app).sandboxes
    client = app.test_client()
    try:
        started = time.perf_counter()
        running = 0
        for _ in range(args.sandboxes):
            sandbox = client.post("/api/sandboxes", json={"files": {"app.py": HELLO}}).json
            running += sandbox["state"] == "running"
        took = time.perf_counter() - started
        time.sleep(2)  # settled
        children = descendants(os.getpid())
        pss = sum(rollup(pid).get("Pss", 0) for pid in children) / 1024
        rss = sum(rollup(pid).get("Rss", 0) for pid in children) / 1024
        print(
            f"crowd: {running} of {args.sandboxes} hello apps running "
            f"({'cold' if args.cold else 'warm'} starts, one after another in {took:.1f} s), "
            f"{len(children)} processes"
        )
        print(
            f"  children's PSS    {pss:8.0f} MB in all, {pss / args.sandboxes:5.1f} MB an app "
            f"(target <= 3 GB, 10 MB an app)"
        )
        print(
            f"  children's RSS    {rss:8.0f} MB in all, {rss / args.sandboxes:5.1f} MB an app "
            "(shared pages counted again in every process)"
        )
        derived = capacity({**app.config, "MAX_SANDBOXES": None})  # this run set its own
        print(f"  MAX_SANDBOXES by default on this machine: {derived}")
    finally:
        manager.shutdown()


if __name__ == "__main__":
    main()
