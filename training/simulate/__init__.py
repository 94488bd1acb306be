"""Postal traffic simulator: licit mail, adaptive vendors from the market profile, and selectively labelled outcomes."""

from training.simulate.config import ScenarioConfig
from training.simulate.engine import simulate
from training.simulate.summary import SimulationSummary

__all__ = ["ScenarioConfig", "SimulationSummary", "simulate"]
