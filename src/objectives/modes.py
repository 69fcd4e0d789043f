"""The two ways the authors' code departs from the paper's formulas, as switchable modes.

The paper writes every loss on the whole-sequence log-likelihood log p̂(y|x) and the exact confidence
factor F(N, p̂). The authors' code (github.com/allanraventos/refine, commit 31a9e6e) trains on

- the **per-token mean** NLL of the target, F × (−log p̂) / T with T target tokens
  (refine/training/NCO.py:141-147, `custom_loss_function1`, the default `--loss_function`;
  with N = 1 that is plain CE per token, which train.py:593 and :606 use for DCO_a and proofs);
- a **Padé-like** factor where N·p̂ < 0.1 (refine/training/NCO.py:5-14, `f`), the exact F elsewhere.

`objective.reduction` = sum (the paper) | token_mean (the code); `objective.factor` = exact (the paper)
| reference (the code). Pure torch, float64.
"""
from __future__ import annotations

from typing import Mapping

import torch
from torch import Tensor

from src.utils.choices import Choice

from .coverage import confidence_factor

# refine/training/NCO.py:10: below this N·p̂ the reference code uses its rational approximation.
REFERENCE_SMALL_NP = 0.1


class Reduction(Choice, key="objective.reduction"):
    """How a sequence's token NLLs become its loss (`objective.reduction`)."""

    SUM = "sum"                # −log p̂(y|x), the paper's formulas
    TOKEN_MEAN = "token_mean"  # −log p̂(y|x) / T, the reference code (NCO.py:143)


class Factor(Choice, key="objective.factor"):
    """Which confidence factor weighs the CE gradient (`objective.factor`)."""

    EXACT = "exact"          # F(N, p̂) = N p̂ (1 − p̂)^(N−1) / (1 − (1 − p̂)^N), src.objectives.coverage
    REFERENCE = "reference"  # the reference code's f: a Padé-like ratio where N·p̂ < 0.1 (NCO.py:5-14)

    def __call__(self, logp: Tensor | float, n: float) -> Tensor:
        """F(n, p̂) from log p̂ under this mode (detach logp to use it as a weight)."""
        if self is Factor.EXACT:
            return confidence_factor(logp, n)
        return reference_factor(logp, n)


def reference_factor(logp: Tensor | float, n: float) -> Tensor:
    """The reference code's f(p̂, N) (refine/training/NCO.py:5-14), from log p̂:

        N·p̂ < 0.1:  (1 − (N−1)p̂ + (N−1)(N−2)p̂²/2) / (1 − (N−1)p̂/2 + (N−1)(N−2)p̂²/6)
        otherwise:  the exact F(N, p̂)            (and 1 for N = 1)

    The exact branch is `confidence_factor` (stable in log space) rather than the code's direct
    formula, which is the same number wherever the latter is finite (N·p̂ ≥ 0.1 keeps 1 − (1 − p̂)^N
    away from 0).
    """
    logp = torch.as_tensor(logp, dtype=torch.float64)
    if n == 1:
        return torch.ones_like(logp)
    p = logp.exp()
    a, b = n - 1.0, (n - 1.0) * (n - 2.0)
    pade = (1 - a * p + b * p * p / 2) / (1 - a / 2 * p + b / 6 * p * p)
    return torch.where(n * p < REFERENCE_SMALL_NP, pade, confidence_factor(logp, n))


def target_lengths(batch: Mapping[str, Tensor] | None, like: Tensor) -> Tensor:
    """(B,) float64 number of target tokens T of each example (batch["target_mask"], as collated
    by src.data.tokenized.collate: the tokens whose log-probabilities make up log p̂)."""
    if batch is None or "target_mask" not in batch:
        raise KeyError('objective.reduction=token_mean needs batch["target_mask"] to count target tokens')
    return batch["target_mask"][:, 1:].sum(-1).to(device=like.device, dtype=torch.float64).clamp(min=1)


def reduce(losses: Tensor, batch: Mapping[str, Tensor] | None, reduction: Reduction) -> Tensor:
    """Per-sequence losses as the mode wants them: unchanged (sum) or divided by T (token_mean,
    with T clamped at 1 as NCO.py:143 does)."""
    if reduction is Reduction.SUM:
        return losses
    return losses / target_lengths(batch, losses)
