"""Statistics for paired comparisons."""
