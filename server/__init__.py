"""The web app: upload a program, watch it run safely, explore ownership over time."""
