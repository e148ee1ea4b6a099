"""Correctional text generation: pose pair A → B → "how to move from A to B" (:func:`load_corrector`).

Runtime API only (model + loaders/wrappers); training and evaluation live in ``.train`` / ``.eval`` and are
never imported from here."""
from .infer import Corrector, correction_texts, load_corrector, rule_text
from .model import (
                    BOS,
                    EOS,
                    JOINT_TOKEN_IN,
                    NO_CHANGE_M,
                    NO_REPEAT,
                    PAD,
                    POSE_FEAT_DIM,
                    SPECIALS,
                    UNK,
                    CorrectorConfig,
                    CorrectorNet,
                    DecoderLayer,
                    PoseEncoder,
                    Vocab,
                    build_net,
                    chirality,
                    detokenize,
                    joint_token_inputs,
                    normalize_pair,
                    pair_joint_displacement,
                    pose_features,
                    to_pair_frame,
)

__all__ = ["BOS", "Corrector", "CorrectorConfig", "CorrectorNet", "DecoderLayer", "EOS", "JOINT_TOKEN_IN",
           "NO_CHANGE_M", "NO_REPEAT", "PAD", "POSE_FEAT_DIM", "PoseEncoder", "SPECIALS", "UNK", "Vocab",
           "build_net", "chirality", "correction_texts", "detokenize", "joint_token_inputs", "load_corrector",
           "normalize_pair", "pair_joint_displacement", "pose_features", "rule_text", "to_pair_frame"]
