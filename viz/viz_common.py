"""Pieces shared by the tmesim viz scripts (report.py, compare.py): the check for Python
modules and the refusal of a path that is not a finished run directory (the same sentences as
report_refusal in host/cli/report.cpp, so the scripts say the same without the program)."""

import os
import sys

# Module -> Debian package.
PACKAGES = {"numpy": "python3-numpy", "matplotlib": "python3-matplotlib", "vtk": "python3-vtk9"}


def missing_modules(modules):
    """'mod (Debian package pkg)' for each module of `modules` that cannot be imported."""
    missing = []
    for mod in modules:
        try:
            __import__(mod)
        except ImportError:
            missing.append(f"{mod} (Debian package {PACKAGES[mod]})")
    return missing


def check_modules(prefix, modules):
    """Exits (status 1) with a message naming every missing module and its Debian package."""
    missing = missing_modules(modules)
    if missing:
        print(f"{prefix}: missing Python modules for {sys.executable}: {', '.join(missing)}; "
              "scripts/install-deps installs them", file=sys.stderr)
        sys.exit(1)


def run_refusal(run):
    """Why `run` is not a finished run directory, or ""."""
    if not os.path.exists(run):
        return f"'{run}': no such directory"
    if not os.path.isdir(run):
        return f"'{run}' is not a directory"
    if not os.path.isfile(os.path.join(run, ".tmesim-run")):
        return f"'{run}' is not a tmesim run directory (no .tmesim-run in it)"
    if not os.path.isfile(os.path.join(run, "provenance.json")):
        return f"'{run}' is not a finished run directory (no provenance.json: the run is going on or was stopped)"
    return ""
