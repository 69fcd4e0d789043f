"""The paper's own numbers (PAPER.md §3), in one place, to print beside ours."""

# Table 1: CE on MATH500, Llama-3-8B, pass@N (%) after each epoch.
TABLE1_CE = {
    1: {"1": 4.4, "16": 30.0, "256": 65.2, "4096": 82.5},
    2: {"1": 5.3, "16": 31.4, "256": 64.5, "4096": 80.0},
    3: {"1": 6.5, "16": 28.7, "256": 54.5, "4096": 79.2},
    4: {"1": 7.4, "16": 22.9, "256": 44.5, "4096": 63.0},
}

# Table 3 (chain of thought; secondary source, PAPER.md says: check before quoting), epoch 3, pass@k (%).
TABLE3_COT_EPOCH3 = {
    "CE": {"1": 9.0, "16": 41.6, "64": 61.7},
    "GRPO": {"1": 12.6, "16": 35.8, "64": 46.3},
    "DCO_a": {"1": 8.3, "16": 42.6, "64": 63.1},
}

# Table 3, epoch 5, pass@64 (%) (same secondary source).
TABLE3_COT_EPOCH5_PASS64 = {"GRPO": 35.4, "DCO_a": 64.3}
