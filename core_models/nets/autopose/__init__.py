"""Auto-posing (drag to pose): effector positions (+ the start pose) → the whole body pose (:func:`load_autoposer`).

Runtime API only; training and evaluation live in ``.train`` / ``.eval`` and are never imported from here."""
from .infer import AutoPoser, effectors_of, load_autoposer
from .model import DEFAULT_CONFIG, AutoPoseNet, build_model, limit_excess

__all__ = ["AutoPoser", "AutoPoseNet", "DEFAULT_CONFIG", "build_model", "effectors_of", "limit_excess",
           "load_autoposer"]
