"""The benchmarks: scripts that time and score avsep through its public API, run from the
repository root as ``python -m benchmarks.NAME`` (so that they import each other, and the test
helpers in ``tests/``, without editing ``sys.path``). benchmarks/README.md lists them."""
