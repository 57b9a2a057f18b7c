"""``rlvr audit``: how far an env's reward can be trusted, measured.

``strategies`` holds the generic ways a policy games a checker (an empty
answer, the prompt echoed, the answer hidden in the reasoning, several
candidates, look-alike characters, a claim of success, orders to the
grader, ...); ``report`` runs them, the reference answers and the property
kit against any registered env and says whether any strategy reaches the
reward of a right answer.
"""
