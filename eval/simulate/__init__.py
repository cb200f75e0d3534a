"""Simulated learners: scripted turns played through the real engine into the store, so a
cohort with known differences can be built for tests, demos and benchmarks."""
