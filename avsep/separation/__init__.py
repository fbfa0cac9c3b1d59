"""The separation: :class:`avsep.separation.separator.Separator` (the Python API, also
``from avsep import Separator``) over the engine that turns windows into masks and masks into
stitched sources, with the full-band output and the same-instrument split."""
