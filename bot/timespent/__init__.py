"""Time spent: each answer's estimated time cost, and the figures built from it."""
