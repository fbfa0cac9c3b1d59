"""The batch rules of ``avsep separate`` and ``Separator.separate_many``: the job (one video's
outputs, all or nothing), its checks, claims and provenance, the report, and the engines that run
it (this process, worker processes, Ray).

The package imports nothing, so that :mod:`avsep.batch.checks` answers before anything heavy loads.
"""
