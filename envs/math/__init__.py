"""rlvr/Math-v0: word problems and competition math, answers checked symbolically.

``env`` holds the task source, loaders, rubric and registration; ``problems`` the offline
GSM8K-style problem generator.
"""
