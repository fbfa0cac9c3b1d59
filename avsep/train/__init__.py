"""Training and evaluation: index reading, mix-and-separate data, the loop, metrics.

Nothing here is imported by the inference path; ``avsep.cli.train.register`` adds the
``train``, ``evaluate``, ``evaluate-real`` and ``features`` commands to the CLI.
"""
