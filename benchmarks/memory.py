"""Memory: each snippet's peak, as its sandbox's cgroup counts it (memory.max_usage_in_bytes: the
whole process tree and its files), after its suggested requests, warm and cold.

    python benchmarks/memory.py [slug ...]        (every snippet when none is named; as root)
"""

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from playground import create_app, resources  # noqa: E402
from playground.services import services_of  # noqa: E402
from playground.snippets import Catalog  # noqa: E402

MEMORY = Path("/sys/fs/cgroup/memory")


def peak_mb(sandbox_id: str) -> float | None:
    """The peak of the sandbox's group (<host's group>/playground-<pid>-<block>/<sandbox id>);
    None when it has none: the child has exited (a snippet meant to fail), or no cgroups."""
    found = list(
        MEMORY.glob(f"**/playground-{os.getpid()}-*/{sandbox_id}/memory.max_usage_in_bytes")
    )
    return int(found[0].read_text()) / 1024 / 1024 if found else None


def measure(warm: bool, slugs: list) -> tuple[dict, float]:
    """({slug: (peak MB, failed)}, LIMIT_MEMORY_BYTES in MB) with a host whose children start
    warm (forked) or cold (a new Python)."""
    app = create_app(
        {
            "TESTING": True,
            "WARM_START": warm,
            "MAX_SANDBOXES_PER_VISITOR": 1,
            "RATE_RUN_BURST": 1000,
            "RATE_REQUEST_BURST": 1000,
        }
    )
    client = app.test_client()
    peaks = {}
    try:
        for slug in slugs:
            snippet = client.get(f"/api/snippets/{slug}").json
            sandbox = client.post("/api/sandboxes", json={"files": snippet["files"]}).json
            failed = sandbox.get("state") != "running" and not snippet["expect_error"]
            for request in snippet["requests"] if sandbox.get("state") == "running" else ():
                client.post(
                    f"/api/sandboxes/{sandbox['id']}/requests",
                    json={key: request[key] for key in ("method", "path", "headers", "body")},
                )
            peaks[slug] = (peak_mb(sandbox["id"]), failed)
            client.delete(f"/api/sandboxes/{sandbox['id']}")
    finally:
        services_of(app).sandboxes.shutdown()
    return peaks, app.config["LIMIT_MEMORY_BYTES"] / 1024 / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("slugs", nargs="*", help="snippets to measure (all when none)")
    args = parser.parse_args()
    slugs = args.slugs or [s["slug"] for s in Catalog.load(resources.path("snippets")).summaries()]
    (warm, limit), (cold, _) = measure(True, slugs), measure(False, slugs)
    print(
        f"Peak memory of a sandbox's cgroup after its suggested requests "
        f"(LIMIT_MEMORY_BYTES {limit:.0f} MB):"
    )
    for slug in slugs:
        note = "   (did not run as expected)" if warm[slug][1] or cold[slug][1] else ""
        shown = [
            f"{peak:6.1f} MB" if peak is not None else "     —   "
            for peak, _ in (warm[slug], cold[slug])
        ]
        print(f"  {slug:<20} warm {shown[0]}   cold {shown[1]}{note}")


if __name__ == "__main__":
    main()
