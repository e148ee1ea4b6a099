"""Configuration of the temporal text-aligned lifter used for the issue-14 seed study (no I/O, no torch)."""
from __future__ import annotations

from dataclasses import asdict, dataclass

#: alignment variants: ``none`` (no text), ``cm`` (the seed's cross-modality alignment, Eq. 5–7, its best),
#: ``fc`` (the seed's fully-connected alignment), ``oracle`` (control: the CM teacher is fed the ground-truth
#: canonical 3D joints instead of the description), ``input`` (control: the description is an *input* of the
#: student at training and test time — how much 3D information the text carries at all)
ALIGNS = ("none", "cm", "fc", "oracle", "input")


@dataclass
class TextLiftConfig:
    window: int = 27            # receptive field in frames: a power of 3 (27, 81)
    causal: bool = True         # causal: the lifted frame is the last of the window; else the centre one
    in_dim: int = 4             # per landmark: x, y (hip-centred, body-scaled, y up), visibility, presence
    channels: int = 128         # temporal convolution width
    dropout: float = 0.1
    d: int = 32                 # per-joint pose-token width (f_pose is (B, 22, d))
    align: str = "none"
    text_slots: int = 16        # MiniLM token states pooled to this many text tokens
    align_layers: int = 2       # CM blocks
    heads: int = 4
    ff: int = 64
    teacher_sg: bool = False    # stop the KL gradient into the teacher (f_trans a fixed target); False: both sides

    def __post_init__(self):
        if self.align not in ALIGNS:
            raise ValueError(f"align must be one of {ALIGNS}, got {self.align!r}")
        n, w = 0, self.window
        while w > 1 and w % 3 == 0:
            w //= 3
            n += 1
        if w != 1 or n < 1:
            raise ValueError(f"window must be a power of 3 (3, 9, 27, 81, ...), got {self.window}")

    @property
    def levels(self) -> int:
        """Number of kernel-3 temporal layers: 3 ** levels = window."""
        n, w = 0, self.window
        while w > 1:
            w //= 3
            n += 1
        return n

    @property
    def target_offset(self) -> int:
        """Index of the lifted frame inside the window."""
        return self.window - 1 if self.causal else self.window // 2

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TextLiftConfig":
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})
