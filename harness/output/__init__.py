"""What a run leaves behind: the versioned ``results.json`` / ``predictions.jsonl`` format
(:mod:`harness.output.results`) and its tables as pandas DataFrames (:mod:`harness.output.frames`)."""
