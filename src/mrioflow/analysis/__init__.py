"""The Belt-and-Road methane-inequality analysis as a pipeline (docs/method.md sections 2-9).

``settings`` (what to run, TOML configuration), ``pipeline`` (tables),
``figures`` (matplotlib, imported only when figures are drawn), ``report``
(HTML) and ``output`` (atomic writes). Importing this package does not import
matplotlib.
"""

from .output import OutputError, OutputFolder, atomic_write
from .settings import Settings, load_config

__all__ = ["OutputError", "OutputFolder", "Settings", "atomic_write", "load_config", "run"]


def run(settings, **kwargs):
    """Run the whole analysis (see :func:`mrioflow.analysis.pipeline.run`)."""
    from .pipeline import run as _run

    return _run(settings, **kwargs)
