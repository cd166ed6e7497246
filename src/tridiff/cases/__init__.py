"""Case files to IR: safe YAML, validated cases and points, the expression parser and the
flat graph every method works on (docs/case-format.md)."""
