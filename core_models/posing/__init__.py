"""Drag-to-pose (Qt-free): effectors, analytic two-bone IK, the exact-reach refinement and :class:`DragSolver`.

The learned part (the auto-posing network) lives in :mod:`core_models.nets.autopose` and reaches the solver
through ``DragSolver(rest_joints, autoposer=...)`` (``ModelServices.autoposer()`` in the app)."""
from core_models.posing.effectors import (
    EFFECTOR_INDEX,
    EFFECTOR_JOINTS,
    EFFECTORS,
    MAIN_EFFECTORS,
    NUM_EFFECTORS,
    effector_index,
    effector_positions,
    world_joints,
)
from core_models.posing.ik import LIMB_CHAINS, two_bone_ik, two_bone_ik_matrices
from core_models.posing.refine import RefineProblem, RefineResult, refine
from core_models.posing.solver import HINT_WEIGHTS, MODES, AutoPoserLike, DragSolver, heading_frame_features

__all__ = ["EFFECTORS", "EFFECTOR_INDEX", "EFFECTOR_JOINTS", "MAIN_EFFECTORS", "NUM_EFFECTORS", "effector_index",
           "effector_positions", "world_joints", "LIMB_CHAINS", "two_bone_ik", "two_bone_ik_matrices",
           "RefineProblem", "RefineResult", "refine", "HINT_WEIGHTS", "MODES", "AutoPoserLike", "DragSolver",
           "heading_frame_features"]
