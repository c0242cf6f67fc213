#!/usr/bin/env python3
"""The log reader and the sampler of tools/bench/lan_scale.sh (read that first).

Every command works on the run dir of tests/lan/lib.sh ($SCALE_DIR, one
h<i>.log per host). The shell takes each log's size in bytes before an event
(its "offset"); a command reads only what came after it. A log line starts
with the daemon's local time of day with ms, `HH:MM:SS.mmm `; it is turned
into epoch seconds with the local date of a reference epoch (the event's
start), so it compares with the shell's $EPOCHREALTIME. A day boundary is
handled (a time more than 12 h before the reference is the next day).

Figures go to stdout as one summary line per command and, as JSON lines, to
each file of $SCALE_RESULTS (colon-separated); `summary` reads the first.
Exit status: 0 done, 1 a wait hit its deadline, 2 a node exited, 3 bad usage.
Nothing here asserts a speed: it only measures.
"""
import argparse
import datetime
import json
import os
import re
import sys
import time

TS = re.compile(r"(\d\d):(\d\d):(\d\d)\.(\d\d\d) ")
DIR = os.environ.get("SCALE_DIR", ".")
RESULTS = [f for f in os.environ.get("SCALE_RESULTS", "").split(":") if f]


def midnight(ref):
    d = datetime.datetime.fromtimestamp(ref)
    return d.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def log_time(line, ref):
    """Epoch seconds of a log line (None if it has no timestamp)."""
    m = TS.match(line)
    if not m:
        return None
    t = midnight(ref) + int(m[1]) * 3600 + int(m[2]) * 60 + int(m[3]) + int(m[4]) / 1000
    if t < ref - 43200:
        t += 86400
    elif t > ref + 43200:
        t -= 86400
    return t


def new_lines(host, offset):
    """Complete lines of host's log after byte `offset`."""
    try:
        with open(f"{DIR}/h{host}.log", "rb") as f:
            f.seek(offset)
            data = f.read()
    except FileNotFoundError:
        return []
    end = data.rfind(b"\n")
    if end < 0:
        return []
    return data[:end].decode(errors="replace").split("\n")


def pct(values, p):
    """Nearest-rank percentile (None for no values)."""
    v = sorted(values)
    if not v:
        return None
    r = max(1, -(-p * len(v) // 100))
    return v[min(r, len(v)) - 1]


def ms(x):
    return None if x is None else round(x * 1000, 1)


def emit(record):
    line = json.dumps(record, sort_keys=True)
    for f in RESULTS:
        with open(f, "a") as out:
            out.write(line + "\n")


def hosts_offsets(a):
    hosts = a.hosts.split()
    offsets = [int(x) for x in a.offsets.split()]
    if len(hosts) != len(offsets):
        sys.exit(f"lan_scale.py: {len(hosts)} hosts but {len(offsets)} offsets")
    return list(zip(hosts, offsets))


def alive_pid(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


# --- wait ---------------------------------------------------------------------

def cmd_wait(a):
    """Until every host's log has, after its offset, a line matching REGEX
    (with --distinct K: K distinct values of the regex's group 1)."""
    rx = re.compile(a.regex)
    pairs = hosts_offsets(a)
    pos = {h: off for h, off in pairs}
    seen = {h: set() for h, _ in pairs}
    count = {h: 0 for h, _ in pairs}
    pending = set(pos)
    pids = a.pids.split()
    end = time.monotonic() + min(a.deadline_s, max(a.budget_s, 0))
    while True:
        for h in list(pending):
            try:
                with open(f"{DIR}/h{h}.log", "rb") as f:
                    f.seek(pos[h])
                    data = f.read()
            except FileNotFoundError:
                continue
            cut = data.rfind(b"\n") + 1
            pos[h] += cut
            for line in data[:cut].decode(errors="replace").splitlines():
                m = rx.search(line)
                if not m:
                    continue
                if a.distinct > 0:
                    seen[h].add(m.group(1) if m.groups() else line)
                else:
                    count[h] += 1
            if (a.distinct > 0 and len(seen[h]) >= a.distinct) or (a.distinct == 0 and count[h] >= 1):
                pending.discard(h)
        if not pending:
            return 0
        dead = [p for p in pids if not alive_pid(p)]
        if dead:
            print(f"lan_scale: {a.what}: node process(es) {' '.join(dead)} exited", file=sys.stderr)
            return 2
        if time.monotonic() >= end:
            why = "deadline" if a.deadline_s <= a.budget_s else "run budget (LAN_BUDGET_S)"
            print(f"lan_scale: {a.what}: not within {min(a.deadline_s, a.budget_s):.0f} s ({why}); "
                  f"still waiting on host(s) {' '.join(sorted(pending, key=int))}", file=sys.stderr)
            for h in sorted(pending, key=int)[:4]:
                got = len(seen[h]) if a.distinct > 0 else count[h]
                print(f"  h{h}: {got} of {max(a.distinct, 1)} matches of /{a.regex}/", file=sys.stderr)
            return 1
        time.sleep(a.poll_s)


def cmd_seen_alive(a):
    """Until every host's latest membership line about --name says it is up
    (nodeup, or alive after a suspicion): a precondition of a kill or a cut,
    since a node already down somewhere would log no new nodedown there."""
    rx = re.compile(r"\[membership\] (nodeup|alive|suspect|nodedown|left) " + re.escape(a.name) + r"( |$)")
    pids = a.pids.split()
    end = time.monotonic() + min(a.deadline_s, max(a.budget_s, 0))
    while True:
        bad = []
        for h in a.hosts.split():
            last = None
            for line in new_lines(h, 0):
                m = rx.search(line)
                if m:
                    last = m[1]
            if last not in ("nodeup", "alive"):
                bad.append(f"h{h}:{last}")
        if not bad:
            return 0
        dead = [p for p in pids if not alive_pid(p)]
        if dead:
            print(f"lan_scale: {a.name} alive everywhere: node process(es) {' '.join(dead)} exited", file=sys.stderr)
            return 2
        if time.monotonic() >= end:
            print(f"lan_scale: not every node saw {a.name} alive within {min(a.deadline_s, a.budget_s):.0f} s: "
                  f"{' '.join(bad[:8])}", file=sys.stderr)
            return 1
        time.sleep(0.1)


# --- one event on many hosts ----------------------------------------------------

EVENT_RX = re.compile(r"\[membership\] (\w+) (\S+)(?: \((.*)\))?\s*$")


def cmd_event(a):
    """For each host: the first line after its offset matching REGEX, in ms
    after --t0; records min, max and the reasons (the text in parentheses)."""
    rx = re.compile(a.regex)
    per_host, reasons, missing = {}, {}, []
    for h, off in hosts_offsets(a):
        hit = None
        for line in new_lines(h, off):
            if rx.search(line):
                hit = line
                break
        t = log_time(hit, a.t0) if hit else None
        if t is None:
            missing.append(h)
            continue
        per_host[h] = ms(t - a.t0)
        m = EVENT_RX.search(hit)
        if m and m[1] in ("nodedown", "suspect", "alive"):  # nodeup's parentheses hold its address
            reason = m[3] or "-"
            reasons[reason] = reasons.get(reason, 0) + 1
    values = list(per_host.values())
    rec = {"phase": a.kind, "round": a.round, "victim": a.victim, "t0": a.t0, "hosts": len(per_host),
           "missing": missing, "max_ms": max(values) if values else None,
           "min_ms": min(values) if values else None, "p50_ms": pct(values, 50),
           "reasons": reasons, "per_host_ms": per_host}
    emit(rec)
    why = ", ".join(f"{n}x {r}" for r, n in sorted(reasons.items(), key=lambda kv: -kv[1]))
    print(f"{a.kind} {a.round}: {a.victim} on all {len(values)} others: max {rec['max_ms']} ms, "
          f"min {rec['min_ms']} ms" + (f" ({why})" if a.kind in ("kill", "cut") else "")
          + (f"; MISSING on {' '.join(missing)}" if missing else ""))
    return 0


# --- formation ------------------------------------------------------------------

UP_RX = re.compile(r"\[membership\] nodeup (\S+) ")
DOWN_RX = re.compile(r"\[membership\] (nodedown|suspect) (\S+)")


def launches(lines):
    """(epoch, name) of the last `### launch` line, and the lines after it."""
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].startswith("### launch "):
            f = lines[i].split()
            return float(f[2]), f[3], lines[i + 1:]
    return None, None, lines


def cmd_form(a):
    launch, start, up, downs = {}, {}, {}, 0
    for h, off in hosts_offsets(a):
        t_launch, me, lines = launches(new_lines(h, off))
        if me is None:
            sys.exit(f"lan_scale.py form: no launch line in h{h}.log")
        launch[me] = t_launch
        ups = up.setdefault(me, {})
        for line in lines:
            if "[discovery] node " in line and me not in start:
                start[me] = log_time(line, t_launch)
            m = UP_RX.search(line)
            if m and m[1] not in ups:
                ups[m[1]] = log_time(line, t_launch)
            if DOWN_RX.search(line):
                downs += 1
    pairs, missing = [], 0
    for x in launch:
        for y in launch:
            if x == y:
                continue
            if y not in up[x] or x not in start or y not in start:
                missing += 1
                continue
            pairs.append(up[x][y] - max(start[x], start[y]))
    last_up = max((t for u in up.values() for t in u.values()), default=None)
    first_launch, last_launch = min(launch.values()), max(launch.values())
    rec = {"phase": "form", "nodes": len(launch),
           "first_launch_to_last_nodeup_ms": ms(last_up - first_launch) if last_up else None,
           "last_launch_to_last_nodeup_ms": ms(last_up - last_launch) if last_up else None,
           "launch_spread_ms": ms(last_launch - first_launch),
           "pair_p50_ms": ms(pct(pairs, 50)), "pair_p99_ms": ms(pct(pairs, 99)), "pair_max_ms": ms(pct(pairs, 100)),
           "pairs": len(pairs), "pairs_missing": missing, "suspect_or_down_lines": downs}
    emit(rec)
    print(f"FORM {len(launch)} nodes: first launch -> last nodeup {rec['first_launch_to_last_nodeup_ms']} ms "
          f"(launches spread over {rec['launch_spread_ms']} ms; last launch -> last nodeup "
          f"{rec['last_launch_to_last_nodeup_ms']} ms); pair X saw Y after the later start: "
          f"p50 {rec['pair_p50_ms']} p99 {rec['pair_p99_ms']} max {rec['pair_max_ms']} ms over {len(pairs)} pairs"
          + (f"; {missing} pairs MISSING" if missing else "")
          + (f"; {downs} suspect/nodedown lines during formation" if downs else ""))
    return 0


# --- join -----------------------------------------------------------------------

def cmd_join(a):
    """The newcomer is --host; the others' first nodeup of it, from its launch
    line and from its own `[discovery] node` start line."""
    pairs = dict(hosts_offsets(a))
    t_launch, me, lines = launches(new_lines(a.host, pairs.pop(a.host)))
    if me is None:
        sys.exit(f"lan_scale.py join: no launch line in h{a.host}.log")
    t_start = next((log_time(l, t_launch) for l in lines if "[discovery] node " in l), None)
    saw = [log_time(l, t_launch) for l in lines if UP_RX.search(l)]
    seen_by, missing = [], []
    for h, off in pairs.items():
        t = next((log_time(l, t_launch) for l in new_lines(h, off) if f"[membership] nodeup {me} " in l), None)
        if t is None:
            missing.append(h)
        else:
            seen_by.append(t)
    rec = {"phase": a.kind, "round": a.round, "node": me, "others": len(seen_by), "missing": missing,
           "launch_to_start_ms": ms(t_start - t_launch) if t_start else None,
           "launch_to_last_nodeup_ms": ms(max(seen_by) - t_launch) if seen_by else None,
           "start_to_last_nodeup_ms": ms(max(seen_by) - t_start) if seen_by and t_start else None,
           "start_to_first_nodeup_ms": ms(min(seen_by) - t_start) if seen_by and t_start else None,
           "start_to_it_saw_all_ms": ms(max(saw) - t_start) if saw and t_start else None,
           "it_saw": len(saw)}
    emit(rec)
    print(f"{a.kind} {a.round}: {me} up on all {len(seen_by)} others {rec['start_to_last_nodeup_ms']} ms after its "
          f"start line (first {rec['start_to_first_nodeup_ms']} ms; {rec['launch_to_last_nodeup_ms']} ms after "
          f"launch, of which process start {rec['launch_to_start_ms']} ms); it saw all {len(saw)} "
          f"{rec['start_to_it_saw_all_ms']} ms after its start"
          + (f"; MISSING on {' '.join(missing)}" if missing else ""))
    return 0


# --- counting lines (load, idle) --------------------------------------------------

def cmd_count(a):
    kinds = {"nodedown": 0, "suspect": 0, "alive": 0, "nodeup": 0, "left": 0}
    per_host = {}
    for h, off in hosts_offsets(a):
        c = {}
        for line in new_lines(h, off):
            m = re.search(r"\[membership\] (nodedown|suspect|alive|nodeup|left) ", line)
            if m:
                c[m[1]] = c.get(m[1], 0) + 1
                kinds[m[1]] += 1
        if c:
            per_host[h] = c
    rec = {"phase": a.kind, "seconds": a.seconds, "burners": a.burners, "counts": kinds, "per_host": per_host}
    emit(rec)
    label = f"{a.burners} CPU burners, " if a.burners else ""
    print(f"{a.kind.upper()} {a.seconds:g} s ({label}no node killed): {kinds['nodedown']} nodedown, "
          f"{kinds['suspect']} suspect, {kinds['alive']} recovered (alive), {kinds['nodeup']} nodeup lines over "
          f"{len(hosts_offsets(a))} hosts" + (f"; on hosts {' '.join(sorted(per_host, key=int))}" if per_host else ""))
    return 0


# --- idle sampler ---------------------------------------------------------------

def proc_sample(pid, iface):
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    ticks = int(rest[11]) + int(rest[12])  # utime + stime (fields 14, 15)
    rss_kb, threads = 0, 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss_kb = int(line.split()[1])
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    rx_b = rx_p = tx_b = tx_p = 0
    with open(f"/proc/{pid}/net/dev") as f:  # the daemon's network namespace
        for line in f:
            name, _, nums = line.partition(":")
            if name.strip() == iface:
                v = nums.split()
                rx_b, rx_p, tx_b, tx_p = int(v[0]), int(v[1]), int(v[8]), int(v[9])
    return {"t": time.monotonic(), "ticks": ticks, "rss_kb": rss_kb, "threads": threads,
            "rx_b": rx_b, "rx_p": rx_p, "tx_b": tx_b, "tx_p": tx_p}


def tcp_counts(pid):
    est = listen = 0
    with open(f"/proc/{pid}/net/tcp") as f:
        next(f)
        for line in f:
            st = line.split()[3]
            est += st == "01"
            listen += st == "0A"
    return est, listen


def cmd_idle(a):
    hz = os.sysconf("SC_CLK_TCK")
    nodes = list(zip(a.hosts.split(), a.pids.split(), a.names.split()))
    iface = {h: f"{a.prefix}e{h}" for h, _, _ in nodes}
    samples = {h: [] for h, _, _ in nodes}
    end = time.monotonic() + a.seconds
    while True:
        for h, pid, _ in nodes:
            if not alive_pid(pid):
                print(f"lan_scale: idle: the node on h{h} (pid {pid}) exited", file=sys.stderr)
                return 2
            samples[h].append(proc_sample(pid, iface[h]))
        now = time.monotonic()
        if now >= end:
            break
        time.sleep(min(a.interval_s, end - now))
    rows = []
    for h, pid, name in nodes:
        s = samples[h]
        dt = s[-1]["t"] - s[0]["t"]
        steps = [100.0 * (b["ticks"] - x["ticks"]) / hz / (b["t"] - x["t"]) for x, b in zip(s, s[1:])]
        est, listen = tcp_counts(pid)
        rows.append({"phase": "idle_node", "node": name, "seconds": round(dt, 1),
                     "cpu_mean_pct": round(100.0 * (s[-1]["ticks"] - s[0]["ticks"]) / hz / dt, 2),
                     "cpu_max_pct": round(max(steps), 1),
                     "rss_mean_mib": round(sum(x["rss_kb"] for x in s) / len(s) / 1024, 2),
                     "rx_bytes_s": round((s[-1]["rx_b"] - s[0]["rx_b"]) / dt),
                     "tx_bytes_s": round((s[-1]["tx_b"] - s[0]["tx_b"]) / dt),
                     "rx_packets_s": round((s[-1]["rx_p"] - s[0]["rx_p"]) / dt, 1),
                     "tx_packets_s": round((s[-1]["tx_p"] - s[0]["tx_p"]) / dt, 1),
                     "tcp_established": est, "tcp_listening": listen,
                     "fds": len(os.listdir(f"/proc/{pid}/fd")), "threads": s[-1]["threads"]})
    cols = [("node", "node", "{}"), ("cpu_mean_pct", "cpu%mean", "{:.2f}"), ("cpu_max_pct", "cpu%max", "{:.1f}"),
            ("rss_mean_mib", "rssMiB", "{:.1f}"), ("rx_bytes_s", "rxB/s", "{}"), ("tx_bytes_s", "txB/s", "{}"),
            ("rx_packets_s", "rxpkt/s", "{:.1f}"), ("tx_packets_s", "txpkt/s", "{:.1f}"),
            ("tcp_established", "tcp", "{}"), ("fds", "fds", "{}"), ("threads", "thr", "{}")]
    print(" ".join(f"{c[1]:>9}" for c in cols))
    for r in rows:
        emit(r)
        print(" ".join(f"{c[2].format(r[c[0]]):>9}" for c in cols))
    summary = {"phase": "idle", "nodes": len(rows), "seconds": a.seconds}
    for key in ("cpu_mean_pct", "cpu_max_pct", "rss_mean_mib", "rx_bytes_s", "tx_bytes_s", "rx_packets_s",
                "tx_packets_s", "tcp_established", "fds", "threads"):
        v = [r[key] for r in rows]
        summary[key] = {"mean": round(sum(v) / len(v), 2), "max": max(v)}
    summary["cluster_cpu_cores"] = round(sum(r["cpu_mean_pct"] for r in rows) / 100, 3)
    summary["cluster_tx_bytes_s"] = sum(r["tx_bytes_s"] for r in rows)
    emit(summary)
    f = summary
    print(f"IDLE {len(rows)} nodes over {a.seconds:g} s, per node mean (max over nodes): "
          f"CPU {f['cpu_mean_pct']['mean']:.2f}% ({f['cpu_mean_pct']['max']:.2f}%) of a core, 1-s peak "
          f"{f['cpu_max_pct']['max']:.1f}%; RSS {f['rss_mean_mib']['mean']:.1f} MiB ({f['rss_mean_mib']['max']:.1f}); "
          f"rx {f['rx_bytes_s']['mean']:.0f} B/s {f['rx_packets_s']['mean']:.1f} pkt/s; tx {f['tx_bytes_s']['mean']:.0f} "
          f"B/s {f['tx_packets_s']['mean']:.1f} pkt/s; TCP established {f['tcp_established']['mean']:.0f}, fds "
          f"{f['fds']['mean']:.0f}, threads {f['threads']['mean']:.0f}; the cluster: "
          f"{summary['cluster_cpu_cores']:.3f} cores, {summary['cluster_tx_bytes_s']} B/s sent")
    return 0


# --- summaries ------------------------------------------------------------------

def cmd_summary(a):
    if not RESULTS:
        sys.exit("lan_scale.py summary: no results file")
    recs = [json.loads(l) for l in open(RESULTS[0]) if l.strip()]
    recs = [r for r in recs if r.get("phase") == a.kind]
    joins = a.kind in ("join", "kill_rejoin")
    if joins:
        key, low = "start_to_last_nodeup_ms", "start_to_first_nodeup_ms"
    else:
        key, low = "max_ms", "min_ms"
    v = [r[key] for r in recs if r.get(key) is not None]
    lo = [r[low] for r in recs if r.get(low) is not None]
    rec = {"phase": a.kind + "_summary", "n": len(v), "p50_ms": pct(v, 50), "p90_ms": pct(v, 90),
           "p99_ms": pct(v, 99), "max_ms": pct(v, 100), "min_ms": min(v) if v else None,
           "first_host_p50_ms": pct(lo, 50), "first_host_max_ms": pct(lo, 100)}
    origin = "from its start line, " if joins else ""
    text = (f"{a.kind.upper()} x{len(v)}: {origin}the last of the others: p50 {rec['p50_ms']} p90 {rec['p90_ms']} "
            f"p99 {rec['p99_ms']} max {rec['max_ms']} (min {rec['min_ms']}) ms; the first: p50 "
            f"{rec['first_host_p50_ms']} max {rec['first_host_max_ms']} ms")
    if joins:
        start = [r["launch_to_start_ms"] for r in recs if r.get("launch_to_start_ms") is not None]
        rec["launch_to_start_p50_ms"], rec["launch_to_start_max_ms"] = pct(start, 50), pct(start, 100)
        text += f"; launch -> start line: p50 {pct(start, 50)} max {pct(start, 100)} ms"
    if a.kind in ("kill", "cut"):
        refused = sum(r["reasons"].get("connection refused: the process is gone", 0) for r in recs)
        total = sum(sum(r["reasons"].values()) for r in recs)
        other = {}
        for r in recs:
            for why, n in r["reasons"].items():
                if why != "connection refused: the process is gone":
                    other[why] = other.get(why, 0) + n
        all_refused = sum(1 for r in recs if r["reasons"] and set(r["reasons"]) ==
                          {"connection refused: the process is gone"})
        rec.update({"nodedown_lines": total, "refused": refused, "other_reasons": other,
                    "events_all_refused": all_refused})
        others = ", ".join(f"{n} '{w}'" for w, n in other.items()) or "0 other"
        text += f"; nodedown reasons over {total} lines: {refused} refused (process gone), {others}"
        text += f"; {all_refused} of {len(recs)} {a.kind}s decided by the refusal on every survivor"
    emit(rec)
    print(text)
    return 0


def cmd_info(a):
    """Sums the `zswarm info --json` counters of every node (files in --dir)."""
    totals, nodes = {}, 0
    for name in sorted(os.listdir(a.dir)):
        try:
            d = json.load(open(os.path.join(a.dir, name)))
        except (ValueError, OSError):
            continue
        if not d.get("ok"):
            continue
        nodes += 1
        emit({"phase": "counters_node", "node": d.get("name"), "stats": d.get("stats", {})})
        for k, v in d.get("stats", {}).items():
            if isinstance(v, int) and k not in ("max_frame_bytes",):
                totals[k] = totals.get(k, 0) + v
    emit({"phase": "counters", "nodes": nodes, "totals": totals})
    keys = ["beacons_received", "frames_received", "frames_sent", "messages_sent", "loop_wakeups", "probes_sent",
            "sequence_gaps", "connections_dropped", "links_reopened", "peers_refused", "handshakes_failed",
            "frames_unknown_sender", "members_unconfirmed_dropped", "beacons_unconfirmed_full",
            "beacons_rate_limited", "frames_unsent", "frames_expired"]
    print(f"COUNTERS summed over {nodes} nodes (whole run; restarted nodes count from their restart): "
          + ", ".join(f"{k} {totals.get(k, 0)}" for k in keys))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    def hosts_args(s):
        s.add_argument("--hosts", required=True)
        s.add_argument("--offsets", required=True)

    s = sub.add_parser("wait")
    hosts_args(s)
    s.add_argument("--what", required=True)
    s.add_argument("--regex", required=True)
    s.add_argument("--distinct", type=int, default=0)
    s.add_argument("--deadline-s", type=float, required=True)
    s.add_argument("--budget-s", type=float, default=1e9)
    s.add_argument("--pids", default="")
    s.add_argument("--poll-s", type=float, default=0.05)
    s = sub.add_parser("seen_alive")
    s.add_argument("--hosts", required=True)
    s.add_argument("--name", required=True)
    s.add_argument("--deadline-s", type=float, required=True)
    s.add_argument("--budget-s", type=float, default=1e9)
    s.add_argument("--pids", default="")
    s = sub.add_parser("event")
    hosts_args(s)
    s.add_argument("--kind", required=True)
    s.add_argument("--round", type=int, default=0)
    s.add_argument("--victim", required=True)
    s.add_argument("--t0", type=float, required=True)
    s.add_argument("--regex", required=True)
    s = sub.add_parser("form")
    hosts_args(s)
    s = sub.add_parser("join")
    hosts_args(s)
    s.add_argument("--kind", default="join")
    s.add_argument("--host", required=True)
    s.add_argument("--round", type=int, default=0)
    s = sub.add_parser("count")
    hosts_args(s)
    s.add_argument("--kind", required=True)
    s.add_argument("--seconds", type=float, default=0)
    s.add_argument("--burners", type=int, default=0)
    s = sub.add_parser("idle")
    s.add_argument("--hosts", required=True)
    s.add_argument("--pids", required=True)
    s.add_argument("--names", required=True)
    s.add_argument("--prefix", required=True)
    s.add_argument("--seconds", type=float, required=True)
    s.add_argument("--interval-s", type=float, default=1.0)
    s = sub.add_parser("summary")
    s.add_argument("--kind", required=True)
    s = sub.add_parser("info")
    s.add_argument("--dir", required=True)
    a = p.parse_args()
    return globals()["cmd_" + a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
