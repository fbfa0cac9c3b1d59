"""The command line: the top floor, imported by nothing but :mod:`avsep.__main__`.

The package itself imports nothing, so that the light argument checks (:mod:`avsep.cli.paths`)
load without Typer's app; :mod:`avsep.cli.app` is the Typer app.
"""
