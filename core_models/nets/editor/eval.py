"""Editor evaluation (``python main.py eval editor``): MPJE/MPVE/geodesic of the best sample and FID on
posecode features, text compliance, side specificity and chained edits."""
from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from core_models.device import model_device, on_device
from core_models.nets.common.pose_vae import (
    geodesic_rad,
    pose_to_rotmats,
    rotmats_to_pose,
)
from core_models.nets.common.weights import WeightsError
from core_models.nets.editor.data import (
    CLAUSE_CACHE,
    BodyTorch,
    ClauseStore,
    _corpus_dir,
)
from core_models.nets.editor.infer import load_editor
from core_models.nets.editor.model import (
    PoseEditor,
    recon_nll,
)
from core_models.nets.training.common import log
from core_models.nets.training.pairs import (
    PairData,
    load_pairs,
)
from core_models.pose import Pose
from core_models.text.compose import edit_sentence


def _fid(x: np.ndarray, y: np.ndarray) -> float:
    from scipy import linalg
    mu1, mu2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x, rowvar=False) + 1e-6 * np.eye(x.shape[1]), np.cov(y, rowvar=False) + 1e-6 * np.eye(x.shape[1])
    cs, _ = linalg.sqrtm(s1 @ s2, disp=False)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * np.real(cs)))


@torch.no_grad()
def evaluate_inputs(model: PoseEditor, data: PairData, store: ClauseStore, body_fn, n_best: int = 30,
                    chunk: int = 128, seed: int = 0, rest_joints=None) -> dict:
    """PoseFix Table-5 style numbers for the three input types. Text = the first wording of each pair.
    The model runs where it lives (batches and body go there; the noise is drawn on the CPU, so a seed gives the
    same numbers on any device); the metrics come back to the CPU."""
    with on_device(model):  # model code that builds tensors builds them on the model's device
        return _evaluate_inputs(model, data, store, body_fn, n_best, chunk, seed, rest_joints)


def _evaluate_inputs(model: PoseEditor, data: PairData, store: ClauseStore, body_fn, n_best: int, chunk: int,
                     seed: int, rest_joints) -> dict:
    from torch.distributions import kl_divergence

    from core_models.captioning.posecodes import posecode_features

    g = torch.Generator().manual_seed(seed)
    dev = model_device(model)
    model.eval()
    n = len(data)
    Dv = body_fn.rest_v.shape[0] * 3
    out = {}
    feat_b = posecode_features(rotmats_to_pose(data.B), kind="continuous", rest_joints=rest_joints)
    for mode in ("pose_only", "text_only", "pose_text"):
        acc: dict[str, list[np.ndarray]] = {k: [] for k in ("elbo_jts", "elbo_v2v", "elbo_rot", "mpje", "mpve", "geo")}
        gen = []
        for s in range(0, n, chunk):
            A, B = data.A[s:s + chunk].to(dev), data.B[s:s + chunk].to(dev)
            ids = [store.ids[i][0] if mode != "pose_only" else [] for i in range(s, min(s + chunk, n))]
            if mode == "text_only":
                A = torch.eye(3, device=dev).expand_as(A).clone()
            cb = store.batch(ids).to(dev)
            q = model.posterior_dist(B)
            p = model.prior_dist(A, cb)
            kl = kl_divergence(q, p).sum(-1)
            d6 = model.decoder.decode_6d(q.loc + q.scale * torch.randn(q.loc.shape, generator=g, device="cpu").to(dev))
            nll_r, nll_j, nll_v, *_ = recon_nll(model, d6, B, body_fn)
            acc["elbo_rot"].append((-(nll_r + kl) / (22 * 6)).cpu().numpy())
            acc["elbo_jts"].append((-(nll_j + kl) / 66).cpu().numpy())
            acc["elbo_v2v"].append((-(nll_v + kl) / Dv).cpu().numpy())
            b = len(A)
            eps = torch.randn(b, n_best, p.loc.shape[-1], generator=g, device="cpu").to(dev)
            z = p.loc[:, None] + p.scale[:, None] * eps
            R = model.decoder(z.reshape(-1, z.shape[-1])).reshape(b, n_best, 22, 3, 3)
            J, V = body_fn(R.reshape(-1, 22, 3, 3))
            Jb, Vb = body_fn(B)
            J, V = J.reshape(b, n_best, 22, 3), V.reshape(b, n_best, -1, 3)
            acc["mpje"].append((1000 * (J - Jb[:, None]).norm(dim=-1).mean(-1)).min(1).values.cpu().numpy())
            acc["mpve"].append((1000 * (V - Vb[:, None]).norm(dim=-1).mean(-1)).min(1).values.cpu().numpy())
            geo = torch.rad2deg(geodesic_rad(R, B[:, None])).mean(-1)
            acc["geo"].append(geo.min(1).values.cpu().numpy())
            gen.append(R[:, 0].cpu())
        feat_g = posecode_features(rotmats_to_pose(torch.cat(gen)), kind="continuous", rest_joints=rest_joints)
        res = {k: float(np.concatenate(v).mean()) for k, v in acc.items()}
        res["fid"] = _fid(feat_g, feat_b)
        out[mode] = res
    return out


def _direction(op: str, cat: int) -> int:
    from core_models.captioning.compare import PAIR_OPS
    cats = PAIR_OPS[op].categories
    mid = cats.index("ignored")
    return int(np.sign(cat - mid))


@torch.no_grad()
def compliance(editor, data: PairData, n: int = 300, rest_joints=None, through: str = "model") -> dict:
    """Share of named paircode changes (deterministic coach text of A→B) realised by the mean edit.
    ``through="model"``: the whole text in one editor call; ``"app"``: the way the app applies text
    (``core_models.text.compose.edit_sentence``: parsed, clause by clause, held parts kept)."""
    from core_models.captioning.compare import PAIRS, correct, extract_pairs

    key_index = {p.key: p.index for p in PAIRS}
    n = min(n, len(data))
    A_p, B_p = rotmats_to_pose(data.A[:n]), rotmats_to_pose(data.B[:n])
    texts, named = [], []
    for i in range(n):
        r = correct(A_p[i], B_p[i], max_instructions=3, rest_joints=rest_joints)
        texts.append(r.text if r.instructions else "")
        named.append([[key_index[k] for k in ins.codes] for ins in r.instructions])
    out_p = _apply_texts(editor, data.A[:n], A_p, texts, through)
    ref = extract_pairs(A_p, B_p, None, rest_joints)
    got = extract_pairs(A_p, out_p, None, rest_joints)
    ok_codes = tot_codes = ok_instr = tot_instr = 0
    for i in range(n):
        for codes in named[i]:
            if not codes:
                continue
            res = [_direction(PAIRS[c].op, int(ref.cats[i, c])) == _direction(PAIRS[c].op, int(got.cats[i, c]))
                   != 0 for c in codes]
            ok_codes += sum(res)
            tot_codes += len(res)
            ok_instr += all(res)
            tot_instr += 1
    return {"compliance": ok_instr / max(tot_instr, 1), "compliance_codes": ok_codes / max(tot_codes, 1),
            "instructions": tot_instr, "example": texts[0], "edit_mpje": _mpje_mm(out_p, B_p, rest_joints)}


def _mpje_mm(P: Pose, Q: Pose, rest_joints=None) -> float:
    """Mean per-joint position error (mm, pelvis-relative, heading kept) between the returned edits and B:
    the single pose the user gets, not the best of 30 samples."""
    from core_models.text.measures import PoseFrame

    jp, jq = PoseFrame(P, rest_joints).joints, PoseFrame(Q, rest_joints).joints
    jp, jq = jp - jp[:, :1], jq - jq[:, :1]
    return float(1000 * np.linalg.norm(jp - jq, axis=-1).mean())


def _apply_texts(editor, A: torch.Tensor, A_p: Pose, texts: list[str], through: str) -> Pose:
    if through == "model":
        mean, _ = editor.predict_normalized(A, texts, 0)
        return rotmats_to_pose(mean)
    if through != "app":
        raise ValueError(f"unknown compliance path {through!r} (model, app)")
    return Pose.stack([edit_sentence(editor, A_p[i], t).pose if t else A_p[i].copy() for i, t in enumerate(texts)])


CHAIN_INSTRUCTIONS = [
    ("Raise your left arm.", {"left_arm"}), ("Raise your right arm.", {"right_arm"}),
    ("Bend your left knee.", {"left_leg"}), ("Bend your right knee.", {"right_leg"}),
    ("Straighten your left arm.", {"left_arm"}), ("Bend your right elbow.", {"right_arm"}),
    ("Turn your head to the left.", {"head"}), ("Tilt your head to the right.", {"head"}),
    ("Move your left foot forward.", {"left_leg"}), ("Lower your right hand.", {"right_arm"}),
    ("Lean forward.", {"torso"}), ("Straighten your right leg.", {"right_leg"}),
]


@torch.no_grad()
def chained(editor, data: PairData, n: int = 100, steps: int = 3, seed: int = 0) -> dict:
    """3 instructions on 3 different body parts in a row; drift of the other parts and joint-limit excess."""
    from core_models import skeleton as sk
    from core_models.pose import limit_violation_deg, normalize_heading

    rng = np.random.default_rng(seed)
    n = min(n, len(data))
    R = data.A[:n].clone()
    touched: list[set[str]] = [set() for _ in range(n)]
    for _ in range(steps):
        texts = []
        for i in range(n):
            while True:
                t, parts = CHAIN_INSTRUCTIONS[int(rng.integers(len(CHAIN_INSTRUCTIONS)))]
                if not parts & touched[i]:
                    break
            touched[i] |= parts
            texts.append(t)
        mean, _ = editor.predict_normalized(R, texts, 0)
        p, _ = normalize_heading(rotmats_to_pose(mean))
        R = pose_to_rotmats(p)
    geo = torch.rad2deg(geodesic_rad(R, data.A[:n])).numpy()  # (n,22)
    drift = np.array([geo[i, [j for part, jj in sk.BODY_PARTS.items() if part not in touched[i] for j in jj]].mean()
                      for i in range(n)], np.float64)
    lim0 = limit_violation_deg(rotmats_to_pose(data.A[:n]))
    lim = limit_violation_deg(rotmats_to_pose(R))
    return {"chain_drift_deg": float(drift.mean()), "chain_drift_ok": float((drift <= 10).mean()),
            "chain_limit_excess_deg": float(lim.mean()), "start_limit_excess_deg": float(lim0.mean())}


SIDED_INSTRUCTIONS = [
    ("Raise your {s} arm.", "{s}_arm"), ("Bend your {s} knee.", "{s}_leg"), ("Straighten your {s} arm.", "{s}_arm"),
    ("Lift your {s} knee.", "{s}_leg"), ("Move your {s} hand forward.", "{s}_arm"),
    ("Bend your {s} elbow.", "{s}_arm"), ("Move your {s} foot to the side.", "{s}_leg"),
    ("Lower your {s} hand.", "{s}_arm"),
]


@torch.no_grad()
def side_specificity(editor, data: PairData, n: int = 100, seed: int = 0) -> dict:
    """Single-side instructions ("raise your left arm") on held-out poses: share of edits whose named part
    rotates more (mean geodesic over its joints) than the same part on the other side, and the mean ratio
    other/named (0 = only the named side moves, 1 = side-blind)."""
    from core_models import skeleton as sk

    rng = np.random.default_rng(seed)
    n = min(n, len(data))
    starts, texts, named, other = [], [], [], []
    for i in range(n):
        t, part = SIDED_INSTRUCTIONS[int(rng.integers(len(SIDED_INSTRUCTIONS)))]
        side = "left" if rng.random() < 0.5 else "right"
        opp = "right" if side == "left" else "left"
        starts.append(data.A[i])
        texts.append(t.format(s=side))
        named.append(sk.BODY_PARTS[part.format(s=side)])
        other.append(sk.BODY_PARTS[part.format(s=opp)])
    A = torch.stack(starts)
    mean, _ = editor.predict_normalized(A, texts, 0)
    geo = torch.rad2deg(geodesic_rad(mean, A)).numpy()
    gn = np.array([geo[i, list(j)].mean() for i, j in enumerate(named)])
    go = np.array([geo[i, list(j)].mean() for i, j in enumerate(other)])
    return {"side_correct": float((gn > go).mean()), "side_ratio": float(np.median(go / np.maximum(gn, 1e-6))),
            "side_named_deg": float(gn.mean()), "side_other_deg": float(go.mean())}


def add_eval_args(p) -> None:
    p.add_argument("--corpus", default=None, help="corpus folder (default ~/.cache/posetailor/corpus)")
    p.add_argument("--mocap", default=None, help="evaluate on these mocap files instead (imported on the fly)")
    p.add_argument("--max-pairs", type=int, default=2000)
    p.add_argument("--compliance-pairs", type=int, default=500)
    p.add_argument("--no-hold", action="store_true",
                   help="let the model move body parts the text does not name (the app holds them by default)")
    p.add_argument("--compliance-through", choices=("model", "app", "both"), default="both",
                   help="apply the coach text in one editor call (model), the way the app does (app: parsed, "
                        "clause by clause, held parts kept), or report both (default)")
    p.add_argument("--chain-poses", type=int, default=200)
    p.add_argument("--split", choices=("val", "test"), default="test",
                   help="corpus split to evaluate (pick settings on val, report test); ignored with --mocap")
    p.add_argument("--compliance-only", action="store_true",
                   help="only the compliance rows (skip best-of-30, chains and sides: quick setting sweeps)")
    p.add_argument("--no-realise", action="store_true",
                   help="return the editor's plain mean (no test-time compliance: core_models/nets/editor/realise.py)")
    p.add_argument("--realise-samples", type=int, default=None,
                   help="samples the compliance pick draws (default 0: the mean only)")
    p.add_argument("--realise-scales", default=None,
                   help="comma-separated slerp factors tried on the named parts (default 1,1.15,1.3,1.5,1.75,2)")
    p.add_argument("--realise-margin", type=float, default=None, help="aim past the ignored band by this factor")
    p.add_argument("--realise-refine", type=int, default=None,
                   help="finite-difference refinement steps (default 4; 0: none)")
    p.add_argument("--weights", default=None, help="weights folder (default resources/weights)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)


def _mocap_corpus(mocap: str, tmp: Path, body) -> Path:
    from core_models.data.corpus import Corpus, build_corpus
    from core_models.data.pairs import build_pairs, caption_pairs, save_captions

    build_corpus(mocap, tmp, body=body, log=log)
    corpus = Corpus(tmp)
    pairs = build_pairs(corpus, rest_joints=body.skinning.rest_joints, log=log)
    pairs.save(tmp / "pairs.npz")
    save_captions(tmp / "modifiers.json", caption_pairs(corpus, pairs, n_texts=1,
                                                        rest_joints=body.skinning.rest_joints, log=log))
    return tmp


def format_table(res: dict) -> str:
    rows = [("pose A only", "pose_only"), ("modifier only", "text_only"), ("pose A + modifier", "pose_text")]
    lines = [f"{'input':<20} {'FID':>6} | {'ELBO jts':>8} {'v2v':>6} {'rot':>6} | "
             f"{'MPJE':>6} {'MPVE':>6} {'Geodesic':>8}  (best of 30; mm, mm, deg)"]
    for name, k in rows:
        r = res[k]
        lines.append(f"{name:<20} {r['fid']:6.2f} | {r['elbo_jts']:8.2f} {r['elbo_v2v']:6.2f} {r['elbo_rot']:6.2f} | "
                     f"{r['mpje']:6.0f} {r['mpve']:6.0f} {r['geo']:8.2f}")
    return "\n".join(lines)


#: ``--device cuda`` is allowed (core_models.cli.train_eval): the editor runs on the device (see
#: :func:`evaluate_inputs`; the other metrics go through Editor.predict_normalized, which returns CPU tensors)
DEVICE_CLEAN = True


def _realise_config(args):
    import dataclasses

    from core_models.nets.editor.realise import DEFAULT_REALISE

    if getattr(args, "no_realise", False):
        return None
    cfg = DEFAULT_REALISE
    if getattr(args, "realise_samples", None) is not None:
        cfg = dataclasses.replace(cfg, samples=int(args.realise_samples))
    if getattr(args, "realise_scales", None):
        cfg = dataclasses.replace(cfg, scales=tuple(float(x) for x in args.realise_scales.split(",")))
    if getattr(args, "realise_margin", None) is not None:
        cfg = dataclasses.replace(cfg, margin=float(args.realise_margin))
    if getattr(args, "realise_refine", None) is not None:
        cfg = dataclasses.replace(cfg, refine_steps=int(args.realise_refine))
    return cfg


def run_eval(args) -> int:
    torch.set_num_threads(max(1, int(getattr(args, "threads", 1) or 1)))
    from core_models.body import load_body

    try:
        ed = load_editor(Path(args.weights) if args.weights else None, device=getattr(args, "device", None) or "cpu")
    except WeightsError as e:
        print(f"error: {e}")
        return 2
    ed.hold_unnamed = not getattr(args, "no_hold", False)
    ed.realise = _realise_config(args)
    body = load_body("anny")
    rest = body.skinning.rest_joints
    t0 = time.time()
    splits: tuple[int, ...]
    only = getattr(args, "compliance_only", False)
    with tempfile.TemporaryDirectory(prefix="posetailor_eval_") as tmp:
        if args.mocap:
            cdir, splits, label = _mocap_corpus(args.mocap, Path(tmp), body), (0, 1, 2), f"mocap {args.mocap}"
        else:
            split = getattr(args, "split", "test") or "test"
            cdir, splits, label = _corpus_dir(args.corpus), ((2,) if split == "test" else (1,)), \
                f"{split} split (held out by clip)"
            if getattr(args, "loso", None):  # the view's test split is every pair of that source
                label = f"source {args.loso} alone (leave-one-source-out view)"
        data = load_pairs(cdir, splits, args.max_pairs, args.seed)
        if len(data) == 0:
            print("error: no evaluation pairs")
            return 2
        res = None if only else evaluate_inputs(
            ed.model, data, ClauseStore(data, None if args.mocap else cdir / CLAUSE_CACHE, flip=False),
            BodyTorch(body, 1024, seed=1), rest_joints=rest, seed=args.seed)
        through = getattr(args, "compliance_through", "model")
        comp = compliance(ed, data, args.compliance_pairs, rest_joints=rest,
                          through="model" if through == "both" else through)
        comp_app = compliance(ed, data, args.compliance_pairs, rest_joints=rest,
                              through="app") if through == "both" else None
        ch = None if only else chained(ed, data, args.chain_poses, seed=args.seed)
        sd = None if only else side_specificity(ed, data, args.chain_poses, seed=args.seed)
    out = _report(args, ed, data, label, res, comp, comp_app, ch, sd)
    out["seconds"] = round(time.time() - t0, 1)
    print(json.dumps(out))
    return 0


def _report(args, ed, data: PairData, label: str, res, comp: dict, comp_app, ch, sd) -> dict:
    """Print the tables; the JSON line's fields."""
    n_side = min(args.chain_poses, len(data))
    print(f"Text-based pose editing, {len(data)} pairs, {label} ({int((data.kind == 0).sum())} IS, "
          f"{int((data.kind == 1).sum())} OOS); MPVE on 1024 mesh vertices; unnamed parts "
          f"{'held at A (app default)' if ed.hold_unnamed else 'free (--no-hold)'} for compliance / chains / sides; "
          f"{'plain mean (--no-realise)' if ed.realise is None else f'compliance pick {ed.realise}'}")
    out: dict = {"name": "eval_editor", "pairs": len(data), "data": label, "hold_unnamed": ed.hold_unnamed,
                 "realise": None if ed.realise is None else str(ed.realise)}
    if res is not None:
        print(format_table(res))
        red = 1 - res["pose_text"]["mpje"] / res["pose_only"]["mpje"]
        print(f"MPJE reduction A+text vs A only: {100 * red:.1f} % (target >= 35 %)")
        out["mpje_reduction"] = round(red, 4)
        out.update({f"{k}_{m}": round(v, 4) for k, r in res.items() for m, v in r.items()})
    print(f"instruction compliance: {100 * comp['compliance']:.1f} % of {comp['instructions']} instructions "
          f"({100 * comp['compliance_codes']:.1f} % of named paircodes) (target >= 85 %)"
          f"{'' if comp_app is None else ' [whole text in one editor call]'}; returned edit to B "
          f"{comp['edit_mpje']:.0f} mm MPJE")
    out.update({"compliance": round(comp["compliance"], 4), "compliance_codes": round(comp["compliance_codes"], 4),
                "edit_mpje": round(comp["edit_mpje"], 2)})
    if comp_app is not None:
        print(f"instruction compliance as the app applies text (parsed, clause by clause, held parts kept): "
              f"{100 * comp_app['compliance']:.1f} % ({100 * comp_app['compliance_codes']:.1f} % of codes); "
              f"returned edit to B {comp_app['edit_mpje']:.0f} mm MPJE")
        out.update({"compliance_app": round(comp_app["compliance"], 4),
                    "compliance_app_codes": round(comp_app["compliance_codes"], 4),
                    "edit_mpje_app": round(comp_app["edit_mpje"], 2)})
    if ch is not None:
        print(f"chained edits (3 in a row, {n_side} poses): untouched-part drift "
              f"{ch['chain_drift_deg']:.1f} deg mean, {100 * ch['chain_drift_ok']:.0f} % of chains <= 10 deg; "
              f"joint-limit excess {ch['chain_limit_excess_deg']:.2f} deg/joint (start "
              f"{ch['start_limit_excess_deg']:.2f})")
        out.update({k: round(v, 4) for k, v in ch.items()})
    if sd is not None:
        print(f"single-side instructions ({n_side} poses): named side moves more in "
              f"{100 * sd['side_correct']:.0f} %; named part {sd['side_named_deg']:.1f} deg vs same part on the "
              f"other side {sd['side_other_deg']:.1f} deg (median ratio other/named {sd['side_ratio']:.2f})")
        out.update({k: round(v, 4) for k, v in sd.items()})
    return out
