"""Build the one compiled part of mrioflow: the Eora26 text parser (src/mrioflow/io/_tsv.cpp).

Everything else is in pyproject.toml. The extension is optional: without a C++17
compiler the install still succeeds and read_eora26 parses with pyarrow instead
(slower; ``mrioflow.io.eora26.PARSER`` says which one is in use).
"""

import sys

from setuptools import Extension, setup

if sys.platform == "win32":  # MSVC
    compile_args, link_args = ["/std:c++17", "/O2"], []
else:  # gcc, clang
    compile_args, link_args = ["-std=c++17", "-O3"], ["-pthread"]

setup(
    ext_modules=[
        Extension(
            "mrioflow.io._tsv",
            ["src/mrioflow/io/_tsv.cpp"],
            language="c++",
            extra_compile_args=compile_args,
            extra_link_args=link_args,
            optional=True,
        )
    ]
)
