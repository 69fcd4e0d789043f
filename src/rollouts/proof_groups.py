"""The unlikeliness reward's glue: G proof attempts per training theorem, sampled from the current
tactic model and checked by the formal system, as a teacher-forcing batch of their steps.

For every theorem in the (whole-proof) training batch, G attempts start from its statement; each
step samples one tactic for the attempt's main goal (HFTacticPolicy, the prompts of training and
search) and applies it. An attempt ends proved (reward 1), with a tactic the checker rejects, or
after max_steps (reward 0). The returned batch has one row per attempted step (state → tactic +
EOS), `attempt` (S,) the attempt of each row (theorem-major), and `rewards` (theorems, G).
Sampled tokens are counted as the rows' targets (each tactic re-tokenized, plus its EOS).
"""
from __future__ import annotations

import torch

from src.data.lean import format_tactic
from src.data.refill import Refill
from src.data.tokenized import collate, tokenize_pairs
from src.evaluation.tactic_policy import HFTacticPolicy
from src.sampling import SamplingConfig
from src.search.backends import make_env


def builtin_statements(module) -> dict[str, str]:
    """proof id → the initial state of that training theorem, from the data module's training steps."""
    return {pair.proof_id: pair.state for pair in module.trainer.datamodule.splits.train if pair.step == 0}


class ProofGroupRollout:
    refill_modes = (Refill.OFF,)

    def __init__(self, group_size: int = 8, max_steps: int = 16, sampling: dict | None = None,
                 max_prompt_tokens: int = 128, env: str = "builtin"):
        if group_size < 2 or max_steps < 1:
            raise ValueError(f"rollout.group_size must be >= 2 and rollout.max_steps >= 1, got {group_size}, {max_steps}")
        if env != "builtin":
            raise ValueError(f"rollout.env={env!r}: sampled proof attempts run on the built-in formal system only "
                             "(accepted: builtin)")
        self.group_size, self.max_steps, self.max_prompt_tokens = group_size, max_steps, max_prompt_tokens
        self.sampling = SamplingConfig(**(sampling or {}))
        self.env = make_env(env)
        self.statements: dict[str, str] | None = None

    def attempts(self, policy, statements: list[str]) -> tuple[list[list[tuple[str, str]]], list[bool]]:
        """Run one attempt per statement in lockstep: each attempt's (state, tactic) steps and whether it proved."""
        states = [self.env.start(s) for s in statements]
        steps: list[list[tuple[str, str]]] = [[] for _ in statements]
        proved, live = [False] * len(statements), list(range(len(statements)))
        for _ in range(self.max_steps):
            if not live:
                break
            drawn = policy.sample([states[i].text for i in live], 1)
            still = []
            for i, [(tactic, _)] in zip(live, drawn):
                steps[i].append((states[i].text, tactic))
                result = self.env.apply(states[i], tactic)
                if result.ok and result.proved:
                    proved[i] = True
                elif result.ok:
                    states[i] = result.state
                    still.append(i)
            live = still
        return steps, proved

    @torch.no_grad()
    def prepare(self, module, batch: dict) -> dict:
        if self.statements is None:
            self.statements = builtin_statements(module)
        theorems = list(dict.fromkeys(batch["unique_id"]))
        policy = HFTacticPolicy(module.model, module.tokenizer, self.sampling, self.max_prompt_tokens)
        steps, proved = self.attempts(policy, [self.statements[t] for t in theorems for _ in range(self.group_size)])
        pairs = [(format_tactic(state), tactic) for attempt in steps for state, tactic in attempt]
        examples = tokenize_pairs(pairs, module.tokenizer, self.max_prompt_tokens, self.sampling.max_new_tokens + 1)
        module.compute.sampled += sum(len(e.target_ids) for e in examples)
        rolled = collate(examples, module.tokenizer.pad_token_id)
        rolled = {key: value.to(module.device) if torch.is_tensor(value) else value for key, value in rolled.items()}
        rolled["attempt"] = torch.tensor([a for a, attempt in enumerate(steps) for _ in attempt], device=module.device)
        rolled["rewards"] = torch.tensor(proved, dtype=torch.float64, device=module.device).view(len(theorems), -1)
        return rolled
