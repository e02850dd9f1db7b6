"""Build the one compiled part of mrioflow: the Eora26 text parser (src/mrioflow/io/_tsv.cpp).

Everything else is in pyproject.toml. The extension is optional: without a C++17
compiler the install still succeeds and read_eora26 parses with pyarrow instead
(slower; ``mrioflow.io.eora26.PARSER`` says which one is in use). A wheel built
without the parser holds only Python and is tagged ``py3-none-any``.
"""

import os
import sys

from setuptools import Extension, setup
from setuptools.command.bdist_wheel import bdist_wheel

if sys.platform == "win32":  # MSVC
    compile_args, link_args = ["/std:c++17", "/O2"], []
else:  # gcc, clang
    compile_args, link_args = ["-std=c++17", "-O3"], ["-pthread"]


class BdistWheel(bdist_wheel):
    """Tag the wheel as pure Python when the optional extension failed to build.

    setuptools decides the tag from whether extensions are declared, not from
    whether they were built; an optional extension that failed (no compiler)
    would otherwise give a platform wheel holding no compiled code.
    """

    def get_tag(self):
        build_ext = self.get_finalized_command("build_ext")
        built = [os.path.exists(build_ext.get_ext_fullpath(ext.name)) for ext in self.distribution.ext_modules]
        if not any(built):
            self.root_is_pure = True
        return super().get_tag()


setup(
    cmdclass={"bdist_wheel": BdistWheel},
    ext_modules=[
        Extension(
            "mrioflow.io._tsv",
            ["src/mrioflow/io/_tsv.cpp"],
            language="c++",
            extra_compile_args=compile_args,
            extra_link_args=link_args,
            optional=True,
        )
    ],
)
