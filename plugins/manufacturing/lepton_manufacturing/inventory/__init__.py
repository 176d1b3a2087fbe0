"""Inventory: the core's quantile demand forecaster feeding a periodic-review order-up-to policy, simulated against a classical one."""
