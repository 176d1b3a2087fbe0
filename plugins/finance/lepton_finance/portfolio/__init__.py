"""Risk-profiled portfolio allocation: a deep return/risk forecaster feeding a convex optimiser, backtested walk-forward."""
