"""Importing mrioflow must not import the heavy optional libraries."""

import subprocess
import sys


def test_import_does_not_load_cupy_dask_matplotlib():
    code = (
        "import sys, mrioflow\n"
        "heavy = [m for m in ('cupy', 'dask', 'distributed', 'matplotlib') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"importing mrioflow imported: {out.stdout.strip()}"
