"""Performance targets (绩效目标), their quality rules, review chain and adjustments."""
