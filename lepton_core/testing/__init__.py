"""The contract kit plugin authors run in their own tests."""
