"""Hardened Docker execution of model-written code, for code environments.

This package holds no executor yet.
"""
