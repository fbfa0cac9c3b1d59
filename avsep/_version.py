"""The version, in a module of its own: modules that record it (checkpoints) import it
without importing the package's public API (which would make an import cycle)."""

__version__ = "0.1.0"
