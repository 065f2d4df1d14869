#!/usr/bin/python3
"""pytest-xprocess (Debian's python3-pytest-xprocess) doing the cycle, as a baseline.

    xprocess_cycle.py [--server PATH] cycle N

Each cycle: XProcess.ensure() starts the server and waits for the listening
line in its log file, one GET with http.client, then getinfo(name).terminate().
These are the calls the plugin's `xprocess` fixture makes; we construct the
XProcess object directly (with a stand-in for pytest's config, of which ensure()
only uses __dict__) so pytest's own start-up is not in the figures.
xprocess polls: its log reader and its readiness check each sleep 0.1 s, so
expect a cycle of at least 100 ms. Output: "key value" lines, times in ms.
"""
import http.client
import os
import re
import sys
import tempfile
import time

import py
from xprocess import ProcessStarter, XProcess

READY = re.compile(r"listening on 127\.0\.0\.1 port (\d+)")


class QuietLog:
    """XProcess prints every log line to stdout by default; keep ours clean."""

    def debug(self, msg, *args):
        pass


class PytestConfigStandIn:
    pass


def percentile(sorted_values, p):
    rank = max(1, min(len(sorted_values), -(-len(sorted_values) * p // 100)))
    return sorted_values[int(rank) - 1]


def report(name, samples_s):
    values = sorted(s * 1e3 for s in samples_s)
    print(f"{name}_min_ms {values[0]:.3f}")
    for p in (50, 95, 99):
        label = "median" if p == 50 else f"p{p}"
        print(f"{name}_{label}_ms {percentile(values, p):.3f}")


def run_cycle(server, n):
    class Starter(ProcessStarter):
        args = [server, "--port", "0"]
        pattern = READY.pattern
        timeout = 10
        terminate_on_interrupt = True

    ready, cycle, teardown = [], [], []
    with tempfile.TemporaryDirectory(prefix="xprocess_cycle.") as root:
        xproc = XProcess(PytestConfigStandIn(), py.path.local(root), log=QuietLog())
        start = time.perf_counter()
        for _ in range(n):
            t0 = time.perf_counter()
            _, logpath = xproc.ensure("refserver", Starter, restart=True, persist_logs=False)
            t_ready = time.perf_counter()
            match = READY.search(logpath.read())
            if not match:
                sys.exit("xprocess_cycle: listening line not in the log")
            conn = http.client.HTTPConnection("127.0.0.1", int(match.group(1)), timeout=10)
            conn.request("GET", "/")
            resp = conn.getresponse()
            body = resp.read()
            conn.close()
            if resp.status != 200 or body != b"ok\n":
                sys.exit(f"xprocess_cycle: unexpected response {resp.status} {body!r}")
            t_term = time.perf_counter()
            if xproc.getinfo("refserver").terminate() != 1:
                sys.exit("xprocess_cycle: terminate() failed")
            t_end = time.perf_counter()
            ready.append(t_ready - t0)
            teardown.append(t_end - t_term)
            cycle.append(t_end - t0)
        total = time.perf_counter() - start
        xproc._force_clean_up()  # what the plugin's pytest_unconfigure does
    print(f"cycles {n}")
    report("ready", ready)
    report("cycle", cycle)
    report("teardown", teardown)
    print(f"cycles_per_s {n / total:.1f}")


def main(argv):
    server = os.path.join(os.path.dirname(os.path.abspath(__file__)), "build", "refserver")
    if len(argv) > 2 and argv[1] == "--server":
        server = argv[2]
        argv = argv[2:]
    args = argv[1:]
    if len(args) >= 2 and args[0] == "cycle":
        run_cycle(server, int(args[1]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
