"""Running cases: every method at every point, judged against the reference, as the plain
data of results.json (runner.results); worker processes with time limits."""
