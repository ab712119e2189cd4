"""How fast the command line starts: whole processes, side by side with `python -c "import numpy"`.

Each command runs `--repeats` times, the commands alternating, and the table gives the median wall time, the
median peak RSS (from wait4) and the ratio to the numpy import. The issue's bound: `tinydet --version` and
`--help` at most 1.5x `python -c "import numpy"`. `--pythonpath DIR` runs another checkout of tinydet (its
folder is put first on PYTHONPATH) so that a before/after pair can be measured with the same interpreter.

    python benchmarks/startup.py --out .bench/startup
    python benchmarks/startup.py --pythonpath /tmp/old-checkout --out .bench/startup-before
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

COMMANDS = {
    "python -c 'import numpy'": ["-c", "import numpy"],
    "tinydet --version": ["-m", "tinydet", "--version"],
    "tinydet --help": ["-m", "tinydet", "--help"],
    "tinydet train --help": ["-m", "tinydet", "train", "--help"],
    "tinydet eval --help": ["-m", "tinydet", "eval", "--help"],
    "import tinydet.cli.commands.eval": ["-c", "import tinydet.cli.commands.eval"],
}


def run_once(argv: list[str], env: dict) -> tuple[float, float] | None:
    """(wall seconds, peak RSS in MB) of one whole process; None when it fails (a command an older checkout
    does not have). Run from a folder outside the checkouts: `python -m` and `-c` put the current folder first
    on sys.path, ahead of PYTHONPATH."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        return None
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--pythonpath", default=None, help="a tinydet checkout to put first on PYTHONPATH")
    ap.add_argument("--out", default=".bench/startup")
    args = ap.parse_args()
    env = dict(os.environ)
    if args.pythonpath:
        env["PYTHONPATH"] = os.pathsep.join([str(Path(args.pythonpath).resolve()), env.get("PYTHONPATH", "")])
    out = Path(args.out).resolve()
    os.chdir(Path(os.sep))  # see run_once
    commands = {name: argv for name, argv in COMMANDS.items() if run_once(argv, env) is not None}  # warms the cache
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(args.repeats):
        for name, argv in commands.items():
            samples[name].append(run_once(argv, env))
    base = statistics.median(w for w, _ in samples["python -c 'import numpy'"])
    rows = [{"command": name, "wall_s": statistics.median(w for w, _ in runs),
             "rss_mb": statistics.median(r for _, r in runs)} for name, runs in samples.items()]
    lines = ["| command | wall s (median) | x numpy import | peak RSS MB |", "|---|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| `{r['command']}` | {r['wall_s']:.3f} | {r['wall_s'] / base:.2f} | {r['rss_mb']:.0f} |")
    lines += [f"| `{name}` | fails in this checkout | | |" for name in COMMANDS if name not in commands]
    table = "\n".join(lines)
    print(table)
    out.mkdir(parents=True, exist_ok=True)
    (out / "startup.json").write_text(json.dumps({"rows": rows, "repeats": args.repeats,
                                                  "pythonpath": args.pythonpath}, indent=1))
    (out / "startup.md").write_text(table + "\n")


if __name__ == "__main__":
    main()
