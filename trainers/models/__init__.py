"""Models: loading and saving policies (and the embedded ``tiny`` one), PPO's critic, and per-token
log-probabilities of sequences.
"""
