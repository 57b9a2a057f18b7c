"""rlvr/FunctionCalling-v0: call the right function with the right arguments, or rightly none.

``env`` holds the task source, loaders, rubric and registration; ``tool_library`` the offline
tools and the requests that call them.
"""
