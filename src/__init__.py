"""Reproducibility package for "Rethinking Fine-Tuning when Scaling Test-Time Compute" (arXiv 2502.07154)."""
