"""Data sets in and out of environments: ``export`` turns any env into a ``datasets.Dataset`` and a
TRL-style reward function; ``decontaminate`` drops training items that overlap evaluation sets.
"""
