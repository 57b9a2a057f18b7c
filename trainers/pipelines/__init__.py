"""The data stages of the R1 recipe around RL: supervised fine-tuning (the cold start, SFT on a data
set) and rejection sampling.
"""
