"""Packages: every ``lepton_core*`` package found automatically, plus ``lepton_core.configs`` from configs/.

Everything else is in pyproject.toml; ``[tool.setuptools.package-dir]`` there maps ``lepton_core.configs``
to configs/, which ``[tool.setuptools.packages.find]`` cannot express.
"""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["lepton_core*"]), "lepton_core.configs"])
