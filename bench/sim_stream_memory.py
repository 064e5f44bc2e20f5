"""Streamed fast-mode `sim` in bounded memory, and resume after Ctrl-C (issue #15 item 3).

Runs ``macforge sim --format fp32 --unit mul -n N`` (default N = 10^8) under ``/usr/bin/time
-v`` and reports its peak RSS (target: under 300 MB; the whole-run path held 2.4 GB and wrote an
800 MB vectors.npz). With ``--interrupt S`` the first run gets SIGINT after S seconds, then the
same command runs again and must say that it resumes, and finish.

    .venv/bin/python bench/sim_stream_memory.py [-n 100000000] [--interrupt 60]

Not a unit test: 10^8 vectors take minutes (about 1 M verified vectors/s on one busy core).
"""
import argparse
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_MB = 300


def run(cmd, interrupt=None):
    # SIGINT back to its default in the child: a job started in the background of a
    # non-interactive shell inherits it ignored, and Python then never raises KeyboardInterrupt
    proc = subprocess.Popen(["/usr/bin/time", "-v", *cmd], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    if interrupt is not None:
        time.sleep(interrupt)
        # SIGINT to the macforge process (time's child), as a terminal's Ctrl-C would send it
        kids = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True)
        for pid in kids.stdout.split():
            subprocess.run(["kill", "-INT", pid])
    out = proc.communicate()[0]
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", out)
    return out, int(rss.group(1)) / 1024 if rss else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=100_000_000)
    ap.add_argument("--interrupt", type=float, default=None, metavar="SECONDS")
    ap.add_argument("--build-dir", default=str(ROOT / "build" / "bench"))
    args = ap.parse_args()
    cmd = [sys.executable, "-m", "macforge", "sim", "--format", "fp32", "--unit", "mul",
           "-n", str(args.n), "--build-dir", args.build_dir]
    ok = True
    # build (or find) the harness first: /usr/bin/time's peak RSS covers the compiler too
    subprocess.run(cmd[:-4] + ["-n", "1000", "--mode", "fast", "--build-dir", args.build_dir],
                   check=True,
                   capture_output=True)
    if args.interrupt is not None:
        out, rss = run(cmd, args.interrupt)
        print(f"interrupted run: peak RSS {rss:.0f} MB")
        print("\n".join(l for l in out.splitlines() if "interrupted" in l or "INCOMPLETE" in l
                        or "Traceback" in l or "Error" in l))
        t0 = time.time()
        out, rss = run(cmd)
        resumed = "resuming" in out and "this session 0 vectors" not in out
        print(f"rerun: {'resumed' if resumed else 'did NOT resume'}; peak RSS {rss:.0f} MB; "
              f"{time.time() - t0:.0f} s")
        ok &= resumed
    else:
        t0 = time.time()
        out, rss = run(cmd)
        print(f"peak RSS {rss:.0f} MB (target < {TARGET_MB} MB); {time.time() - t0:.0f} s")
    print("\n".join(l for l in out.splitlines() if l.startswith(("PASS", "FAIL", "INCOMPLETE"))))
    ok &= rss < TARGET_MB and bool(re.search(r"^PASS ", out, re.M))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
