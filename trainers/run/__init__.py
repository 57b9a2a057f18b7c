"""What a training run keeps and reports: checkpoints and exact resume, metrics and curves, held-out
evaluation, and multi-process set-up.
"""
