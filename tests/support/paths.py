"""Where things are: the repository and assignment 2's solutions and starter (the folders the tests use most)."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions" / "assignment2"     # cs231n/, the notebooks, best_model.npz
STARTER = ROOT / "starter" / "assignment2"
PACKAGE_ROOTS = {"solutions": SOLUTIONS / "cs231n", "starter": STARTER / "cs231n"}
