"""The version, on the ground floor: results.json records it (runner) and `tridiff --version`
prints it (entry points), and pyproject.toml reads it from here, so it has one home that no
layer has to climb to."""
__version__ = "0.1.0"
