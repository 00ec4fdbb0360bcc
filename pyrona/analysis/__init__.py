"""Analyses of a step's object graph (networkx): regions, invariants, reachability, SCCs."""
