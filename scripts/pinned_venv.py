"""Run a script inside a virtual environment of pinned packages, created on first use."""
import os
import subprocess
import sys
from pathlib import Path


def ensure(venv: Path, requirements: Path):
    """Re-executes the calling script inside `venv` (created from `requirements` if missing)."""
    python = venv / "bin" / "python"
    if Path(sys.prefix).resolve() == venv.resolve():
        return
    if not python.exists():
        subprocess.check_call([sys.executable, "-m", "venv", str(venv)])
        subprocess.check_call([str(python), "-m", "pip", "install", "-q", "-r", str(requirements)])
    os.execv(str(python), [str(python), *sys.argv])
