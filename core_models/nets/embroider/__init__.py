"""PoseEmbroider / Aligner + SMPL head: the learned capture regressor's model side (:func:`load_embroider`,
:func:`load_capture_model`).

Runtime API only (model + loaders/wrappers); training and evaluation live in ``.train`` / ``.eval`` and are
never imported from here."""
from .infer import CaptureModel, Encoders, load_capture_model, load_embroider
from .model import MODALITIES, SUBSETS, Aligner, EmbroiderConfig, PoseEmbroider, SMPLHead, info_nce

__all__ = ["Aligner", "CaptureModel", "EmbroiderConfig", "Encoders", "MODALITIES", "PoseEmbroider", "SMPLHead",
           "SUBSETS", "info_nce", "load_capture_model", "load_embroider"]
