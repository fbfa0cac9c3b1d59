"""``avsep remix``: the gains parsed (balance, light: the CLI checks them first) and the remixed
video written (mixer)."""
