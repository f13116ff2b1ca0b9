"""Pure torch machine-learning algorithms, readable beside the lessons (no web imports)."""
