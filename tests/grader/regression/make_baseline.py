"""Write baseline.json: the grades of the solutions, the starter and every broken variant, by a given
checkout of the grader (the one before a restructuring).

    python tests/grader/regression/make_baseline.py CHECKOUT     # CHECKOUT: a git worktree of the old commit
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from grading import grade_all  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkout", type=Path, help="the grader's checkout to grade with")
    ap.add_argument("--solutions", type=Path, help="its solutions folder (default: CHECKOUT/solutions)")
    ap.add_argument("--starter", type=Path, help="its starter folder (default: CHECKOUT/starter)")
    ap.add_argument("--out", type=Path, default=HERE / "baseline.json")
    args = ap.parse_args()
    root = args.checkout.resolve()
    graded = grade_all(root, args.solutions or root / "solutions", args.starter or root / "starter")
    args.out.write_text(json.dumps(graded, indent=1, sort_keys=True) + "\n")
    print(f"{len(graded)} grades written to {args.out.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
