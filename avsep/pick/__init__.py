"""``avsep pick VIDEO``: a page on this machine's browser to draw the boxes on the video's
frames, see the ``avsep separate`` line they make, save them beside the video and listen to the
stems (session: the page's state, through the code ``separate`` runs; server: who may ask
what; static/: the page, plain HTML, CSS and JavaScript shipped as package data).

The package imports nothing, so that importing it loads no torch.
"""
