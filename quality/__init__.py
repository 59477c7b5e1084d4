"""Expectation suites built from schemas/ plus clinical plausibility rules, and the stewards' report."""
