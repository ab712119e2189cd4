"""Page faults and system time of sliced prediction with and without tinydet's malloc thresholds (tinydet/malloc.py).

    PYTHONPATH=. python benchmarks/malloc_faults.py MODEL.pt IMAGE_FOLDER [--images 5] [--batch 4]

Each setting runs in its own process: the same SlicedPredictor (640 px tiles at their own size, overlap 0.2, conf
0.25, torch on all cores) predicts the first --images JPEGs of the folder after one warm-up image, and the process
reports the prediction loop's wall seconds and its own user and sys seconds and minor page faults (getrusage).
'glibc default' sets GLIBC_TUNABLES to a no-op value, which makes tinydet leave malloc as glibc sets it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

CHILD = """
import json, resource, sys, time
from pathlib import Path
from tinydet.infer.sliced import SliceOptions, SlicedPredictor
model, folder, n, batch = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
predictor = SlicedPredictor(model, SliceOptions(slice=(640, 640), overlap=0.2, conf=0.25, batch=batch))
images = sorted(folder.glob("*.jpg"))[:n]
predictor(images[0])
before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
boxes = sum(len(predictor(path).xyxy) for path in images)
after = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"wall": time.perf_counter() - start, "user": after.ru_utime - before.ru_utime,
                  "sys": after.ru_stime - before.ru_stime, "faults": after.ru_minflt - before.ru_minflt,
                  "peak_rss_mb": after.ru_maxrss / 1024, "boxes": boxes}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("folder")
    parser.add_argument("--images", type=int, default=5)
    parser.add_argument("--batch", type=int, default=4)
    args = parser.parse_args()
    base = {k: v for k, v in os.environ.items() if k not in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES")}
    print("| malloc | loop wall s | user s | sys s | minor faults | peak RSS MB | boxes |\n|---|---:|---:|---:|---:|---:|---:|")
    for label, extra in (("glibc default", {"GLIBC_TUNABLES": "glibc.malloc.check=0"}), ("tinydet's thresholds", {})):
        out = subprocess.run([sys.executable, "-c", CHILD, args.model, args.folder, str(args.images), str(args.batch)],
                             env={**base, **extra}, capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"| {label} | {r['wall']:.1f} | {r['user']:.1f} | {r['sys']:.1f} | {r['faults']:,} | {r['peak_rss_mb']:.0f} | {r['boxes']} |")


if __name__ == "__main__":
    main()
