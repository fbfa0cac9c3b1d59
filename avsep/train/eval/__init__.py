"""The evaluations of a model: on synthetic test mixtures drawn from an index (:mod:`.synthetic`,
``avsep evaluate``) and on real recordings (:mod:`.real` and :mod:`.duets`, ``avsep
evaluate-real``), with what they share (:mod:`.common`: the separator, the scores' summary, the
JSON report)."""
