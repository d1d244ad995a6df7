"""``python -m PACKAGE.check [Q1 Q4 ...]`` runs the public checks; ``--zip`` builds the upload archive."""
from __future__ import annotations

import argparse
import json
import sys
import zipfile
from pathlib import Path

from . import HERE, PACKAGE, SPEC, report, run_checks

ROOT = HERE.parent.parent          # the folder that holds the package and the notebooks


def _size(n: int) -> str:
    return f"{n / 2 ** 20:.1f} MiB" if n >= 2 ** 20 else f"{n / 1024:.1f} KiB"


def _has_outputs(path: Path) -> bool:
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        return any(c.get("outputs") for c in nb.get("cells", []) if c.get("cell_type") == "code")
    except (OSError, ValueError, AttributeError):
        return False


def zip_entries(root: Path = ROOT) -> tuple[list[tuple[str, Path]], list[str]]:
    """``(name in the zip, file)`` of the upload, and the notes about what is missing."""
    entries, notes = [], []
    for rel in SPEC["graded_files"]:
        path = root / PACKAGE / rel
        if path.is_file():
            entries.append((f"{PACKAGE}/{rel}", path))
        else:
            notes.append(f"missing graded file {PACKAGE}/{rel}: its tests will score zero")
    for name in SPEC["notebooks"]:
        path = root / f"{name}.ipynb"
        if not path.is_file():
            notes.append(f"missing notebook {name}.ipynb")
            continue
        entries.append((path.name, path))
        if not _has_outputs(path):
            notes.append(f"{path.name} has no outputs: run it top to bottom and save it before zipping")
    model = SPEC.get("best_model")
    if model:
        path = root / model
        if path.is_file():
            entries.append((model, path))
        else:
            notes.append(f"missing {model} (the notebook saves it): its question will score zero")
    return entries, notes


def build_zip(out: Path, root: Path = ROOT) -> int:
    entries, notes = zip_entries(root)
    limit = int(SPEC["max_upload_bytes"])
    tmp = out.with_name(f".{out.name}.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, path in entries:
            zf.write(path, name)
    size = tmp.stat().st_size
    if size > limit:
        tmp.unlink()
        print(f"not built: the archive would be {_size(size)}, over the upload limit of {_size(limit)}; "
              "the largest files:", file=sys.stderr)
        for name, path in sorted(entries, key=lambda e: -e[1].stat().st_size)[:3]:
            print(f"  {name}: {_size(path.stat().st_size)}", file=sys.stderr)
        return 1
    tmp.replace(out)
    print(f"built {out} ({_size(size)}, limit {_size(limit)}) with:")
    for name, path in entries:
        print(f"  {name} ({_size(path.stat().st_size)})")
    for note in notes:
        print(f"note: {note}")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog=f"python -m {PACKAGE}.check", description=SPEC["title"] + ": public checks")
    p.add_argument("questions", nargs="*", metavar="Q", help="questions to check (default: all), e.g. Q1 Q4")
    p.add_argument("--zip", action="store_true", help="build the archive to upload instead of checking")
    p.add_argument("--out", type=Path, default=None, help=f"the archive (default {SPEC['assignment']}.zip)")
    args = p.parse_args(argv)
    if args.zip:
        return build_zip(args.out or ROOT / f"{SPEC['assignment']}.zip")
    known = [q["id"] for q in SPEC["questions"]]
    unknown = [q for q in args.questions if q.upper() not in known]
    if unknown:
        p.error(f"unknown question(s) {', '.join(unknown)} (this assignment has {', '.join(known)})")
    results = run_checks(args.questions or None)
    report(results)
    return 0 if all(r["passed"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
