"""Netra Apex: a self-hostable, multi-user AI agent service for AI-spend optimization."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("netra-apex")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"

__all__ = ["__version__"]
