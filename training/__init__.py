"""Offline learning: market listings, simulation, datasets, training and evaluation."""
