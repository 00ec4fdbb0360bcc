"""Views of a step: mermaid diagrams in FrankenScript's visual language, and text."""
