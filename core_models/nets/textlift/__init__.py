"""Temporal text-aligned lifter (issue-14 seed study): runtime API (model + inference only)."""
from core_models.nets.textlift.config import ALIGNS, TextLiftConfig
from core_models.nets.textlift.infer import fill_undetected, frame_features, lift_sequence, load_textlift
from core_models.nets.textlift.model import TextLifter, mpjpe, pa_mpjpe

__all__ = ["ALIGNS", "TextLiftConfig", "TextLifter", "fill_undetected", "frame_features", "lift_sequence",
           "load_textlift", "mpjpe", "pa_mpjpe"]
