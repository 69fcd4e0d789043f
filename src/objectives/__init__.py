"""Training objectives: the coverage math (pure functions) and thin classes adapting it to a batch."""
from .base import ObjectiveOutput, reduce_losses, sequence_logp
from .coverage import confidence_factor, dco_loss, log1mexp, log_coverage
from .cross_entropy import CrossEntropy
from .dco import DCO
from .dco_approx import DCOApprox
from .grpo import GRPO, group_advantages
from .proof import DCOProof, DCOStep, dco_step_losses, proof_logp, whole_proof_dco_losses

__all__ = [
    "CrossEntropy",
    "DCO",
    "DCOApprox",
    "DCOProof",
    "DCOStep",
    "GRPO",
    "ObjectiveOutput",
    "confidence_factor",
    "dco_loss",
    "dco_step_losses",
    "group_advantages",
    "log1mexp",
    "log_coverage",
    "proof_logp",
    "reduce_losses",
    "sequence_logp",
    "whole_proof_dco_losses",
]
