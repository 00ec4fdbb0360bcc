"""The tracer: records every step of a program with its object graph and regions."""
