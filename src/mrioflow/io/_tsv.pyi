"""Type stub of the compiled Eora26 text parser (_tsv.cpp; absent when no compiler was found)."""

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
    /,
) -> bool:
    """Parse tab-separated numbers into ``out[rowmap[i], colmap[j]]``.

    False if the text is not exactly ``len(rowmap)`` non-empty lines of ``ncols``
    finite numbers (``out`` is then partly written).
    """
