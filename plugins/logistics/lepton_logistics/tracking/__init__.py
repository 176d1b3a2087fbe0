"""order_tracking: remaining time of a live order from its status events."""
