"""Reference solutions for the exercises of notebook 08 (attention and memory networks)."""
from __future__ import annotations

import torch

EXERCISES = {1: ["masked_softmax_by_hand"], 2: ["general_scores"], 3: ["memory_hop"]}


def masked_softmax_by_hand(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Softmax over the last axis of ``scores`` with exactly zero weight where ``mask`` is False."""
    largest = torch.where(mask, scores, float("-inf")).max(dim=-1, keepdim=True).values
    # exp only of real positions: exp(garbage) at padding could overflow, and inf * 0 is nan
    exps = torch.where(mask, torch.exp(torch.where(mask, scores - largest, 0.0)), 0.0)
    return exps / exps.sum(dim=-1, keepdim=True)


def general_scores(queries: torch.Tensor, keys: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """Luong's general score q_t^T W h_s: (batch, T, H), (batch, S, H), (H, H) -> (batch, T, S)."""
    return queries @ W @ keys.transpose(1, 2)


def memory_hop(u: torch.Tensor, m: torch.Tensor, c: torch.Tensor):
    """One hop of an end-to-end memory network: p = softmax_i(u . m_i); return u + sum_i p_i c_i, p."""
    p = torch.softmax((m @ u.unsqueeze(-1)).squeeze(-1), dim=-1)
    return u + (p.unsqueeze(-1) * c).sum(dim=1), p
