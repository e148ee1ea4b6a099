"""Automatic pose captioning: posecodes, descriptions (pose -> text) and modifiers (pair -> text)."""
from core_models.captioning.compare import CorrectionResult, Instruction, correct, extract_pairs, modifier
from core_models.captioning.describe import describe
from core_models.captioning.features import compute_features, pose_joints
from core_models.captioning.posecodes import extract, posecode_features
from core_models.captioning.textutil import flip_text

__all__ = ["CorrectionResult", "Instruction", "compute_features", "correct", "describe", "extract",
           "extract_pairs", "flip_text", "modifier", "pose_joints", "posecode_features"]
