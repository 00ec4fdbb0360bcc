"""The region runtime: the model of regions, immutability and cowns (no I/O)."""
