#!/usr/bin/env python3
"""Reads load-tool output for bench/suite.sh and prints its table.

  report.py wrk OUTPUT              -> "rate p50_ms p99_ms errors"
  report.py pgbench OUTPUT LOGDIR   -> "rate p50_ms p99_ms errors"
  report.py latencies FILE          -> "mean_ms p50_ms" of one latency in seconds per line
  report.py statement LOG PREFIX    -> mean ms PostgreSQL spent parsing, planning (bind) and
                                       executing the statements that start with PREFIX, from a
                                       server log written with log_min_duration_statement = 0
  report.py table ROWS.tsv          -> the markdown table
"""
import glob, os, re, statistics, sys

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def to_ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(m.group(1)) * UNITS[m.group(2)]


def wrk(path):
    out = open(path).read()
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = to_ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = to_ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(bad.group(1)) if bad else 0) + (sum(map(int, sock.groups())) if sock else 0)
    return rate, p50, p99, errors


def percentile(sorted_values, q):
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def pgbench(path, logdir):
    out = open(path).read()
    rate = float(re.search(r"tps = ([\d.]+)", out).group(1))
    failed = re.search(r"number of failed transactions: (\d+)", out)
    latencies = []
    for log in glob.glob(os.path.join(logdir, "pgbench_log.*")):
        with open(log) as f:
            latencies.extend(int(line.split()[2]) / 1000.0 for line in f)
    latencies.sort()
    return rate, percentile(latencies, 0.5), percentile(latencies, 0.99), int(failed.group(1)) if failed else 0


def latencies(path):
    values = sorted(float(line) * 1000.0 for line in open(path) if line.strip())
    return statistics.mean(values), statistics.median(values)


def statement(log, prefix):
    phase = re.compile(r"duration: ([\d.]+) ms\s+(parse|bind|execute) [^:]*: " + re.escape(prefix))
    total, executions = 0.0, 0
    for line in open(log, errors="replace"):
        m = phase.search(line)
        if m:
            total += float(m.group(1))
            executions += m.group(2) == "execute"
    if executions == 0:
        sys.exit("no execution of %r in %s" % (prefix, log))
    return total / executions


def table(path):
    rows = [line.rstrip("\n").split("\t") for line in open(path) if line.strip()]
    head = ["figure", "Pulang", "PostgreSQL baseline", "ratio", "target", "met"]
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"
    print(line(head))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print(line(r))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "wrk":
        print("%.0f %.2f %.2f %d" % wrk(sys.argv[2]))
    elif cmd == "pgbench":
        print("%.0f %.2f %.2f %d" % pgbench(sys.argv[2], sys.argv[3]))
    elif cmd == "latencies":
        print("%.1f %.1f" % latencies(sys.argv[2]))
    elif cmd == "statement":
        print("%.1f" % statement(sys.argv[2], sys.argv[3]))
    elif cmd == "table":
        table(sys.argv[2])
    else:
        sys.exit("unknown command " + cmd)
