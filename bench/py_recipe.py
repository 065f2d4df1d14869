#!/usr/bin/python3
"""The classic Python recipe for a server under test, as a baseline.

    py_recipe.py [--server PATH] cycle N
    py_recipe.py [--server PATH] flood BYTES [REPS]

subprocess.Popen with stdout=PIPE, a reader thread doing readline() into a
queue.Queue, the main thread waiting on the queue for the ready line, one GET
with http.client, terminate(), wait(). PATH defaults to build/refserver next to
this script. Output: one "key value" pair per line, times in milliseconds.
"""
import http.client
import os
import queue
import subprocess
import sys
import threading
import time

READY_TIMEOUT_S = 10.0


def percentile(sorted_values, p):
    """Nearest-rank percentile, the same definition as c_baseline."""
    rank = max(1, min(len(sorted_values), -(-len(sorted_values) * p // 100)))
    return sorted_values[int(rank) - 1]


def report(name, samples_s):
    values = sorted(s * 1e3 for s in samples_s)
    print(f"{name}_min_ms {values[0]:.3f}")
    for p in (50, 95, 99):
        label = "median" if p == 50 else f"p{p}"
        print(f"{name}_{label}_ms {percentile(values, p):.3f}")


def start_reader(stream):
    """Reader thread: every line goes into the queue, then None at EOF."""
    lines = queue.Queue()

    def pump():
        for line in iter(stream.readline, b""):
            lines.put(line)
        lines.put(None)

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    return lines, thread


def run_cycle(server, n):
    ready, cycle, teardown = [], [], []
    start = time.perf_counter()
    for _ in range(n):
        t0 = time.perf_counter()
        proc = subprocess.Popen([server, "--port", "0"], stdout=subprocess.PIPE)
        lines, reader = start_reader(proc.stdout)
        line = lines.get(timeout=READY_TIMEOUT_S)
        if not line or not line.startswith(b"listening on 127.0.0.1 port "):
            sys.exit(f"py_recipe: {server} gave first line {line!r}, not the listening line")
        port = int(line.split()[-1])
        t_ready = time.perf_counter()

        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=READY_TIMEOUT_S)
        conn.request("GET", "/")
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        if resp.status != 200 or body != b"ok\n":
            sys.exit(f"py_recipe: unexpected response {resp.status} {body!r}")

        t_term = time.perf_counter()
        proc.terminate()
        status = proc.wait()
        reader.join()
        proc.stdout.close()
        t_end = time.perf_counter()
        if status != 0:
            sys.exit(f"py_recipe: server exited with {status} on SIGTERM")
        ready.append(t_ready - t0)
        teardown.append(t_end - t_term)
        cycle.append(t_end - t0)
    total = time.perf_counter() - start
    print(f"cycles {n}")
    report("ready", ready)
    report("cycle", cycle)
    report("teardown", teardown)
    print(f"cycles_per_s {n / total:.1f}")


def run_flood(server, nbytes, reps):
    """The main thread takes every line off the queue, as a test would; a
    waiter thread stamps the moment the child is reaped. Child's run time =
    spawn to reaped: the child cannot finish before the reader thread has taken
    all but the last pipe buffer of its output, so this is what the recipe
    costs the server. drained = spawn until the last line was dequeued."""
    child, drained = [], []
    for _ in range(reps):
        t0 = time.perf_counter()
        proc = subprocess.Popen([server, "--flood", str(nbytes)], stdout=subprocess.PIPE)
        lines, reader = start_reader(proc.stdout)
        reaped = []

        def wait_and_stamp():
            proc.wait()
            reaped.append(time.perf_counter())

        waiter = threading.Thread(target=wait_and_stamp)
        waiter.start()
        got = count = 0
        while (line := lines.get()) is not None:
            got += len(line)
            count += 1
        t_drained = time.perf_counter()
        waiter.join()
        reader.join()
        proc.stdout.close()
        if proc.returncode != 0 or got != nbytes:
            sys.exit(f"py_recipe: flood status {proc.returncode}, got {got} of {nbytes} bytes")
        child.append(reaped[0] - t0)
        drained.append(t_drained - t0)
    child.sort()
    drained.sort()
    median = percentile(child, 50)
    print(f"flood_bytes {nbytes}")
    print(f"flood_lines {count}")
    print(f"flood_reps {reps}")
    print(f"flood_median_ms {median * 1e3:.3f}")
    print(f"flood_min_ms {child[0] * 1e3:.3f}")
    print(f"flood_drained_median_ms {percentile(drained, 50) * 1e3:.3f}")
    print(f"flood_mib_s {nbytes / (1024 * 1024) / median:.1f}")


def main(argv):
    server = os.path.join(os.path.dirname(os.path.abspath(__file__)), "build", "refserver")
    if len(argv) > 2 and argv[1] == "--server":
        server = argv[2]
        argv = argv[2:]
    args = argv[1:]
    if len(args) >= 2 and args[0] == "cycle":
        run_cycle(server, int(args[1]))
    elif len(args) >= 2 and args[0] == "flood":
        run_flood(server, int(args[1]), int(args[2]) if len(args) > 2 else 1)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
