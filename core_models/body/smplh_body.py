"""Official SMPL-H model files through ``smplx`` (optional backend; the files are never shipped).

The user points the settings at an SMPL-H ``.npz`` (the AMASS/MANO distribution: keys ``v_template,
shapedirs, posedirs, J_regressor, weights, kintree_table, f, hands_componentsl/r, hands_meanl/r``).
We load it ourselves with ``np.load(allow_pickle=False)`` and hand smplx a ``Struct`` (smplx's own loader
would unpickle). Pickled ``.pkl`` files are refused with a message explaining how to get the ``.npz``.

SMPL's template is already y-up and faces +z, like PoseTailor. PoseTailor puts the rest pelvis at the
origin, so ``transl_smplx = transl − J0`` (J0 = rest pelvis of this model and these betas).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from core_models import skeleton as sk
from core_models.body.base import BodyOutput, LBSBody, SkinningData, sparsify_weights, vertex_normals
from core_models.pose import Pose

REQUIRED_KEYS = ("v_template", "shapedirs", "posedirs", "J_regressor", "weights", "kintree_table", "f",
                 "hands_componentsl", "hands_componentsr", "hands_meanl", "hands_meanr")
NUM_SMPLH_JOINTS = 52
_VERTEX_ID_NAMES = ("nose", "reye", "leye", "rear", "lear", "LBigToe", "LSmallToe", "LHeel", "RBigToe",
                    "RSmallToe", "RHeel", "lthumb", "lindex", "lmiddle", "lring", "lpinky", "rthumb", "rindex",
                    "rmiddle", "rring", "rpinky")


class SMPLHModelError(RuntimeError):
    pass


def read_smplh_npz(path: str | Path) -> dict[str, np.ndarray]:
    path = Path(path)
    if not path.exists():
        raise SMPLHModelError(f"SMPL-H model file not found: {path}")
    if path.suffix.lower() == ".pkl":
        raise SMPLHModelError(
            f"{path.name} is a pickle file; PoseTailor never unpickles files. Use the .npz release of "
            "SMPL-H (e.g. the AMASS 'smplh/<gender>/model.npz' files).")
    with open(path, "rb") as fh:
        if fh.read(4) != b"PK\x03\x04":
            raise SMPLHModelError(f"{path.name}: cannot read as .npz (not a zip archive)")
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except ValueError as e:
        raise SMPLHModelError(f"{path.name}: contains pickled objects or is not a valid .npz ({e})") from None
    except Exception as e:
        raise SMPLHModelError(f"{path.name}: cannot read as .npz ({e})") from None
    missing = [k for k in REQUIRED_KEYS if k not in data]
    if missing:
        raise SMPLHModelError(f"{path.name}: not an SMPL-H model, missing keys {missing}")
    V = data["v_template"].shape[0]
    checks = {
        "v_template": (V, 3), "J_regressor": (NUM_SMPLH_JOINTS, V), "weights": (V, NUM_SMPLH_JOINTS),
        "kintree_table": (2, NUM_SMPLH_JOINTS),
    }
    for k, shp in checks.items():
        if tuple(data[k].shape) != shp:
            raise SMPLHModelError(f"{path.name}: {k} has shape {data[k].shape}, expected {shp}")
    if data["shapedirs"].shape[:2] != (V, 3) or data["posedirs"].shape[:2] != (V, 3):
        raise SMPLHModelError(f"{path.name}: shapedirs/posedirs must be (V,3,K)")
    for k in ("v_template", "shapedirs", "posedirs", "weights"):
        if not np.all(np.isfinite(data[k])):
            raise SMPLHModelError(f"{path.name}: {k} contains NaN/inf")
    return data


def _hand_to_wrist(j: int) -> int:
    """SMPL-H joints 22–36 are the left hand, 37–51 the right hand."""
    if j < sk.NUM_JOINTS:
        return j
    return sk.JOINT_INDEX["left_wrist"] if j < 37 else sk.JOINT_INDEX["right_wrist"]


class SMPLHBody(LBSBody):
    """SMPL-H through smplx (pose correctives included in ``forward``)."""

    name = "smplh"

    def __init__(self, model_path: str | Path, betas: np.ndarray | None = None):
        import smplx
        from smplx.utils import Struct

        data = read_smplh_npz(model_path)
        V = data["v_template"].shape[0]
        num_betas = int(min(10, data["shapedirs"].shape[-1]))
        vertex_ids = None if V == 6890 else {n: 0 for n in _VERTEX_ID_NAMES}
        struct_data = dict(data)
        struct_data["f"] = data["f"].astype(np.int64)
        try:
            self._model = smplx.SMPLH(
                model_path=str(model_path), data_struct=Struct(**struct_data), use_pca=False,
                flat_hand_mean=True, num_betas=num_betas, vertex_ids=vertex_ids, batch_size=1,
            ).eval()
        except Exception as e:
            raise SMPLHModelError(f"smplx could not build SMPL-H from {Path(model_path).name}: {e}") from None
        b = np.zeros(num_betas, np.float32) if betas is None else np.asarray(betas, np.float32)[:num_betas]
        self._betas = torch.as_tensor(b)[None]

        v_shaped = data["v_template"] + np.einsum("vck,k->vc", data["shapedirs"][..., :num_betas], b)
        J = data["J_regressor"] @ v_shaped
        self._j0 = J[0].astype(np.float64)
        W52 = data["weights"].astype(np.float64)
        W = np.zeros((V, sk.NUM_JOINTS))
        for j in range(NUM_SMPLH_JOINTS):
            W[:, _hand_to_wrist(j)] += W52[:, j]
        W /= np.maximum(W.sum(1, keepdims=True), 1e-12)
        widx, wval = sparsify_weights(W, k=4)
        parents = data["kintree_table"][0, :sk.NUM_JOINTS].astype(np.int64).copy()
        parents[0] = -1
        if not np.array_equal(parents, sk.PARENTS):
            raise SMPLHModelError("kintree_table does not match the SMPL-H body skeleton")
        from core_models.hands import PARENTS52

        par52 = data["kintree_table"][0].astype(np.int64).copy()
        par52[0] = -1
        hands_ok = bool(np.array_equal(par52, PARENTS52))  # a file with another hand tree: no finger layer
        rest_v = (v_shaped - J[0]).astype(np.float32)
        faces = data["f"].astype(np.int32)
        super().__init__(SkinningData(
            rest_vertices=rest_v, rest_normals=vertex_normals(rest_v, faces), faces=faces,
            rest_joints=(J[:sk.NUM_JOINTS] - J[0]).astype(np.float32), parents=sk.PARENTS.copy(),
            joint_names=sk.JOINT_NAMES, weights=W.astype(np.float32), weight_idx=widx, weight_val=wval,
            floor_height=float(rest_v[:, 1].min()),
            # the file's own hand joints (flat hand at hand_pose = 0: smplx with flat_hand_mean=True)
            hand_rest_joints=(J[sk.NUM_JOINTS:NUM_SMPLH_JOINTS] - J[0]).astype(np.float32) if hands_ok else None,
            hand_rest_pose=np.zeros((30, 3), np.float32) if hands_ok else None,
            weights52=(W52 / np.maximum(W52.sum(1, keepdims=True), 1e-12)).astype(np.float32) if hands_ok else None,
        ))

    def forward(self, pose: Pose) -> BodyOutput:
        """Vertices from smplx (with pose correctives); joints/frames from the shared FK."""
        ours = super().forward(pose)  # (with a hand_pose: the 52-joint FK, so hand_joints are filled in)
        full = pose.full().reshape(-1, 22, 3)
        n = full.shape[0]
        transl = pose.transl.reshape(-1, 3) - self._j0
        hands = (np.zeros((n, 30, 3), np.float32) if pose.hand_pose is None
                 else pose.hand_pose.reshape(n, 30, 3))
        with torch.no_grad():
            out = self._model(
                betas=self._betas.expand(n, -1),
                global_orient=torch.as_tensor(full[:, 0]),
                body_pose=torch.as_tensor(full[:, 1:].reshape(n, 63)),
                left_hand_pose=torch.as_tensor(hands[:, :15].reshape(n, 45)),
                right_hand_pose=torch.as_tensor(hands[:, 15:].reshape(n, 45)),
                transl=torch.as_tensor(transl, dtype=torch.float32),
            )
        verts = out.vertices.numpy().reshape(*pose.batch_shape, -1, 3)
        return BodyOutput(verts.astype(np.float32), ours.joints, ours.global_rotations, ours.skin_transforms,
                          ours.hand_joints, ours.hand_rotations)
