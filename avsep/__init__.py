"""avsep: separate the sound of each instrument in a video, guided by what the camera sees.

``from avsep import Separator`` is the Python API; the import is deferred so that
``avsep --help`` and the package import stay fast (torch loads only when a model is needed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from avsep._version import __version__

if TYPE_CHECKING:
    from avsep.separation.separator import Separator

__all__ = ["Separator", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "Separator":
        from avsep.separation.separator import Separator

        return Separator
    raise AttributeError(f"module 'avsep' has no attribute {name!r}")
