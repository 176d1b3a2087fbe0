"""Settings shared by every test session (core and plugins)."""

import os

# `pytest -n 2` runs two workers on two cores: one BLAS/OpenMP thread each avoids oversubscription,
# and the CLI subprocesses the tests start inherit it.
for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")
