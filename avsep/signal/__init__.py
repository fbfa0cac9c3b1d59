"""The model's signal conventions, shared by the finder, the separation and training: the STFT
and its log-frequency grid (dsp), and the overlapping windows and their stitching (chunking)."""
