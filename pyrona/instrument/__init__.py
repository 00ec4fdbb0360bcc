"""Instrumentation: rewrite a program's modules so its stores go through the runtime."""
