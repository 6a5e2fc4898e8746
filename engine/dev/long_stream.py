#!/usr/bin/env python3
"""long_stream.py — an always-on `voxtral --stdin` stream, measured (outside npm test).

Feeds HOURS of audio (a fixture's speech repeated, raw s16le 16 kHz mono) into
`voxtral -d MODEL --stdin` as fast as the engine takes it (the pipe applies back-pressure), and every
INTERVAL seconds records the engine's resident memory (VmRSS from /proc) and the audio it has taken,
as a CSV: wall_s, audio_h, positions, rss_mb, ms_per_position (over the last interval). At the end it
prints a summary and an ASCII plot of RSS and ms/position against hours of audio.

  python3 engine/dev/long_stream.py --hours 24 --model checks/fixtures/tiny-delay --delay-ms 960 \
      --backend cpu --csv long_stream.csv
  python3 engine/dev/long_stream.py --summarize long_stream.csv   # summary + plots of a CSV (or .partial)

Only the Python standard library. The audio source is the model folder's fixture WAV (fixture.json
"audio"), so any fixture works; the text is ignored (plain mode: the engine keeps no per-token state).
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import threading
import time

BYTES_PER_POSITION = 1280 * 2   # one decoder position = 1280 samples of s16le


def pcm16(path):
    """The data chunk of a 16 kHz mono PCM16 WAV."""
    b = open(path, "rb").read()
    off = 12
    while off + 8 <= len(b):
        cid, size = b[off:off + 4], struct.unpack_from("<I", b, off + 4)[0]
        if cid == b"data":
            return b[off + 8:off + 8 + size]
        off += 8 + size + (size & 1)
    raise SystemExit(f"long_stream.py: error: {path} has no data chunk. Use a fixture WAV (16 kHz mono PCM16)")


def rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def ascii_plot(xs, ys, title, width=64, height=10):
    lo, hi = min(ys), max(ys)
    if hi - lo < 1e-9:
        hi = lo + 1e-9
    grid = [[" "] * width for _ in range(height)]
    x_hi = max(xs) or 1.0
    for x, y in zip(xs, ys):
        c = min(width - 1, int(x / x_hi * (width - 1)))
        r = height - 1 - int((y - lo) / (hi - lo) * (height - 1))
        grid[r][c] = "*"
    out = [title]
    for i, row in enumerate(grid):
        label = hi - (hi - lo) * i / (height - 1)
        out.append(f"{label:9.3f} |" + "".join(row))
    out.append(" " * 10 + "+" + "-" * width)
    out.append(" " * 10 + f"0 h{'':{width - 12}}{x_hi:6.1f} h")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--model", default="checks/fixtures/tiny-delay")
    ap.add_argument("--delay-ms", type=int, default=960)
    ap.add_argument("--backend", default="cpu")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--engine", default="engine/build/voxtral")
    ap.add_argument("--interval", type=float, default=10.0, help="seconds between samples")
    ap.add_argument("--csv", default="long_stream.csv")
    ap.add_argument("--summarize", metavar="CSV", help="print the summary and plots of a CSV this script wrote")
    a = ap.parse_args()
    if a.summarize:
        return summarize(read_csv(a.summarize))

    fx = json.load(open(os.path.join(a.model, "fixture.json")))
    speech = pcm16(os.path.join(a.model, fx["audio"]))
    total = int(a.hours * 3600 * 16000) * 2
    cmd = [a.engine, "-d", a.model, "--stdin", "--delay-ms", str(a.delay_ms), "--backend", a.backend,
           "--threads", str(a.threads)]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    fed = [0]

    def feed():
        block = speech * max(1, (1 << 20) // len(speech))
        try:
            while fed[0] < total:
                n = min(len(block), total - fed[0])
                p.stdin.write(block[:n])
                fed[0] += n
            p.stdin.close()
        except BrokenPipeError:
            pass

    t = threading.Thread(target=feed, daemon=True)
    t0 = time.monotonic()
    t.start()
    rows, last = [], (0.0, 0)
    with open(a.csv + ".partial", "w") as out:
        out.write("wall_s,audio_h,positions,rss_mb,ms_per_position\n")
        while p.poll() is None:
            time.sleep(a.interval)
            now, pos, rss = time.monotonic() - t0, fed[0] // BYTES_PER_POSITION, rss_mb(p.pid)
            if rss is None:
                break
            dpos = pos - last[1]
            ms = (now - last[0]) * 1000.0 / dpos if dpos > 0 else float("nan")
            last = (now, pos)
            rows.append((now, fed[0] / 32000.0 / 3600.0, pos, rss, ms))
            out.write("%.1f,%.4f,%d,%.1f,%.4f\n" % rows[-1])
            out.flush()
    rc = p.wait()
    os.replace(a.csv + ".partial", a.csv)
    if rc != 0:
        raise SystemExit(f"long_stream.py: error: the engine exited {rc}. Run it by hand: {' '.join(cmd)}")
    summarize(rows)


def summarize(rows):
    hours = rows[-1][1]
    warm = [r for r in rows if r[1] >= min(1.0, hours / 4)]
    if len(warm) < 4:
        raise SystemExit("long_stream.py: error: too few samples after warm-up. Use a smaller --interval")
    rss = [r[3] for r in warm]
    ms = sorted(r[4] for r in warm if r[4] == r[4])
    q = len(warm) // 4
    mean = lambda xs: sum(xs) / len(xs)
    print(f"{hours:.2f} h of audio in {rows[-1][0] / 60:.1f} min ({hours * 3600 / rows[-1][0]:.1f}x real time), "
          f"{int(rows[-1][2])} positions")
    print(f"RSS after warm-up (from {warm[0][1]:.2f} h): min {min(rss):.1f} MB, max {max(rss):.1f} MB")
    print(f"ms/position after warm-up: median {ms[len(ms) // 2]:.3f}, p10 {ms[len(ms) // 10]:.3f}, "
          f"p90 {ms[len(ms) * 9 // 10]:.3f}; first quarter mean {mean([r[4] for r in warm[:q]]):.3f}, "
          f"last quarter mean {mean([r[4] for r in warm[-q:]]):.3f}")
    xs = [r[1] for r in rows]
    print(ascii_plot(xs, [r[3] for r in rows], "RSS (MB) vs hours of audio"))
    print(ascii_plot(xs, [r[4] if r[4] == r[4] else 0.0 for r in rows], "ms per position vs hours of audio"))


def read_csv(path):
    with open(path) as f:
        next(f)
        return [tuple(float(x) for x in line.split(",")) for line in f if line.strip()]


if __name__ == "__main__":
    sys.exit(main())
