"""Benchmarks (scripts printing figures measured side by side) and, in ``benchmarks.reference``,
the official formulations they and the tests compare against. Not part of the installed package."""
