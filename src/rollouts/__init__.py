"""On-policy glue: what objectives that learn from the model's own samples need before each step.

A rollout is called by `LanguageModelModule` with the current weights: `prepare(module, batch)`
returns the batch the objective sees, and an optional `score(module, batch)` replaces the refill
rule's teacher-forced log p̂. Sampling and grading live here; the math stays in src/objectives.
"""
