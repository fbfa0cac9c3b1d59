"""Where each source is in the picture: the Box type, what was asked for (request), the plan
over time (plan, players), the player finder (detect, cues, fusion), and what draws them
(preview, locate).

The package imports nothing, so that the light modules (box, plan, request) check arguments
without torch, PyAV or numpy.
"""
