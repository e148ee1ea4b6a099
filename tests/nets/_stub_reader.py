"""A posecode reader stand-in for the prompt-refiner tests."""
from __future__ import annotations

import torch


class StubReader(torch.nn.Module):
    """Reads one posecode as stated, in one category, from any text."""

    def __init__(self, n_codes: int, n_cats: int, code: int, cat: int):
        super().__init__()
        self.n_codes, self.n_cats, self.d = n_codes, n_cats, 4
        self.code, self.cat = code, cat
        self.anchor = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x, mask):
        lg = torch.full((x.shape[0], self.n_codes, self.n_cats + 1), -20.0)
        lg[:, :, self.n_cats] = 20.0  # nothing stated ...
        lg[:, self.code, self.n_cats] = -20.0  # ... but this code, in this category
        lg[:, self.code, self.cat] = 20.0
        return lg
