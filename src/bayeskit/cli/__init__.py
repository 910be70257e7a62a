"""The ``bayeskit`` command line."""
