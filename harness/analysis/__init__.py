"""Analysis of scored runs: paired comparisons of models (:mod:`harness.analysis.compare`), built on the
metric contract (``harness.metrics``) and the pure statistics of ``harness.stats``. Knows nothing of requests,
suites or output files."""
