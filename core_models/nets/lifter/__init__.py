"""Text-assisted 2D→3D keypoint lifter (:func:`load_lifter`), the capture regressor's visual encoder.

Runtime API only (model + loaders/wrappers); training and evaluation live in ``.train`` / ``.eval`` and are
never imported from here."""
from .infer import load_lifter, load_variants, variant_name
from .model import (
                    ALIGNERS,
                    N_JOINTS,
                    N_LANDMARKS,
                    TEXT_DIM,
                    CMAlign,
                    CMBlock,
                    FCAlign,
                    JointHead,
                    KeypointEncoder,
                    Lifter,
                    LifterConfig,
                    TFAlign,
                    feature_kl,
                    lifter_losses,
                    mpjpe,
                    mpjpe_loss,
                    pa_mpjpe,
                    procrustes_align,
)

__all__ = ["ALIGNERS", "CMAlign", "CMBlock", "FCAlign", "JointHead", "KeypointEncoder", "Lifter", "LifterConfig",
           "N_JOINTS", "N_LANDMARKS", "TEXT_DIM", "TFAlign", "feature_kl", "lifter_losses", "load_lifter",
           "load_variants", "mpjpe", "mpjpe_loss", "pa_mpjpe", "procrustes_align", "variant_name"]
