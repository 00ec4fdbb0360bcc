"""An empty program: the fixed cost of starting the interpreter (and pyrona)."""
