"""Type stub of the compiled text parser (_tsv.cpp; absent when no compiler was found)."""

import numpy as np
from typing_extensions import Buffer

def parse(
    data: Buffer,
    out: np.ndarray,
    rowmap: np.ndarray,
    colmap: np.ndarray,
    ncols: int,
    trailing: bool,
    nthreads: int,
    skip: int = 0,
    sep: str = "\t",
    /,
) -> bool:
    """Parse ``sep``-separated numbers, after ``skip`` label fields per line, into ``out[rowmap[i], colmap[j]]``.

    False if the text is not exactly ``len(rowmap)`` non-empty lines of ``skip``
    labels and ``ncols`` finite numbers (``out`` is then partly written).
    """
