"""``python -m mrioflow.bench``: the same as ``mrioflow bench``."""

import sys

from ..cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
