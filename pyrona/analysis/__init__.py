"""Analyses of a step's object graph (networkx): regions, invariants, reachability, SCCs."""

from .explain import describe_path, explain_violation, violation_path
from .graph import to_networkx
from .invariants import RULES, InvariantViolation, check_invariants
from .reachability import path_from_roots, reachable, unreachable
from .regions import region_depths, region_forest, region_members, region_partition
from .sccs import SCC, SCCHistory, frozen_condensation, frozen_sccs, scc_history
from .suggest import Suggestion, immediate_dominators, region_suggestions
from .summary import summary

__all__ = [
    "RULES", "SCC", "SCCHistory", "InvariantViolation", "Suggestion", "check_invariants", "describe_path",
    "explain_violation", "frozen_condensation", "frozen_sccs", "immediate_dominators", "scc_history",
    "path_from_roots", "reachable", "region_depths", "region_forest", "region_members",
    "region_partition", "region_suggestions", "summary", "to_networkx", "unreachable",
    "violation_path",
]
