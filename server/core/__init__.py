"""Dependency-free building blocks shared by the engine, the grading backends and the realisers.

Types, emotions, question types and text utilities. Nothing here imports from the rest of
`server`, so `grading` and `realise` can use them without importing the engine
(tests/test_import_cycles.py holds the layering).
"""
