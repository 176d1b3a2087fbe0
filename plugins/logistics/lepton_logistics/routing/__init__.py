"""Vehicle routing with capacities and time windows (OR-Tools), a greedy baseline and infeasibility diagnosis."""
