"""Write the build record overlay/lenet.json after `make bitstream` published lenet.bit/.hwh.

    python3 vivado_tcl/write_build_record.py FACTS.json OVERLAY_WITHOUT_EXTENSION

FACTS.json is what vivado_tcl/build_bitstream.tcl wrote (release, clock,
slack, utilization); this adds the git commit and dirty flag of the checkout,
the contract version and the SHA-256 of the two files (lenet_pynq/build_record.py).
Only the standard library and the core package are imported, so plain
`python3` runs it without the venv.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lenet_pynq import build_record  # after the sys.path line above
from lenet_pynq.errors import LenetError

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: write_build_record.py FACTS.json OVERLAY_WITHOUT_EXTENSION", file=sys.stderr)
        return 2
    facts_path, overlay = Path(argv[0]), Path(argv[1])
    bit, hwh = overlay.with_suffix(".bit"), overlay.with_suffix(".hwh")
    try:
        facts = json.loads(facts_path.read_text(encoding="utf-8"))
        for path in (bit, hwh):
            if not path.is_file():
                raise LenetError(f"{path} not found: run `make bitstream`, which publishes it before the record")
        commit, dirty = build_record.git_state(ROOT)
        record = build_record.make_record(facts, bit, hwh, commit, dirty)
    except (OSError, ValueError) as e:
        print(f"error: cannot read the build facts {facts_path}: {e}", file=sys.stderr)
        return 1
    except LenetError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    path = build_record.write_record(build_record.record_path(bit), record)
    u = record["utilization"]
    print(f"lenet: wrote {path} (IP {record['ip']}, Vivado {record['vivado_version']}, WNS {record['wns_ns']} ns, "
          f"WHS {record['whs_ns']} ns, LUT {u['lut']['used']}/{u['lut']['available']})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
