"""Image build times and sizes: `make images`' steps cold (no base, no wheelhouse, no images) and warm (all current).

    .venv/bin/python bench/images_build.py           # warm: every step is found current and skipped
    .venv/bin/python bench/images_build.py --cold    # removes the base and both images, uses an empty wheelhouse

Needs root, podman, buildah and mmdebstrap (Debian packages). Appends one record per run (the machine, its
load, each step's seconds and the images' sizes) to bench/RESULTS-images.json; bench/RESULTS-images.md
discusses them. Wall-clock times on a shared 2-core machine: read them with the load average beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from lifecycle_lab.deployment import images

OUT = Path(__file__).with_name("RESULTS-images.json")


def machine() -> dict:
    mem = next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    return {"cpus": os.cpu_count(), "memory_gib": round(int(mem.split()[1]) / 2**20, 1),
            "kernel": platform.release(), "storage_driver": images.storage_driver(),
            "podman": subprocess.run(["podman", "--version"], capture_output=True, text=True).stdout.strip(),
            "load_average_1m_before": round(os.getloadavg()[0], 2)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cold", action="store_true", help="remove the base and the images first; empty wheelhouse")
    args = parser.parse_args(argv)
    if images.missing_tools():
        print(f"skipped: {', '.join(images.missing_tools())} not installed", file=sys.stderr)
        return 0
    record = {"kind": "cold" if args.cold else "warm", "machine": machine(), "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    if args.cold:
        for name in (images.WORKBOOK, images.SERVICE, images.BASE):
            if images.image_exists(name):
                images.podman("rmi", name)
        shutil.rmtree(images.WHEELHOUSE, ignore_errors=True)
    start = time.monotonic()
    log = images.ROOT / "build" / "images" / "bench-build.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as out:
        steps = images.build(("service", "workbook"), log=out)
    record["total_s"] = round(time.monotonic() - start, 1)
    record["steps"] = [{"name": s.name, "skipped": s.skipped, "seconds": round(s.seconds, 1),
                        **({"mb": round(s.detail["bytes"] / 1e6)} if "bytes" in s.detail else {})} for s in steps]
    record["machine"]["load_average_1m_after"] = round(os.getloadavg()[0], 2)
    history = json.loads(OUT.read_text()) if OUT.exists() else []
    OUT.write_text(json.dumps(history + [record], indent=1) + "\n")
    for s in record["steps"]:
        print(f"{s['name']:40s} {'skipped' if s['skipped'] else 'built':8s} {s['seconds']:7.1f} s  {s.get('mb', '')}")
    print(f"total {record['total_s']} s ({record['kind']}); recorded in {OUT.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
