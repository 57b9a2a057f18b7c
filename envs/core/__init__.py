"""The env core: the text environment, tasks and task sources, prompt templates, the text space, and the registry.

Nothing here knows a task family; families build on these pieces and register themselves.
"""
