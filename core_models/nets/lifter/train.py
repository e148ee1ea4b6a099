"""Train / evaluate the text-assisted lifter (``python main.py train|eval lifter``).

Data (:func:`build_capture_data`, shared with the PoseEmbroider): corpus poses that have automatic descriptions
(``descriptions.json``), their 33 landmarks in 3D over a short causal window of the same clip
(:class:`core_models.capture.synth.LandmarkModel`), the 22 joints, and one description per pose encoded once by
the frozen MiniLM (token states pooled to 16 slots + a mean-pooled vector; cached on disk because encoding is
the slow part on a CPU). Every batch draws **fresh random cameras and MediaPipe-like noise**
(:func:`core_models.capture.synth.synthesize`); evaluation uses one fixed draw on held-out clips (test split).

``train lifter`` trains the variants in ``--variants`` (``none`` = no text, ``fc``/``tf``/``cm`` alignments) for
single frames (``--windows 1``) and a causal window (``5``), evaluates each (MPJPE / PA-MPJPE, mm, with and
without alignment) and ships all of them in ``resources/weights/lifter.pt`` (test-time weights only — the text
branch is dropped). ``eval lifter [--mocap DIR]`` re-evaluates the shipped variants, prints the table and ends
with one JSON line.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core_models.capture import synth
from core_models.nets.lifter import Lifter, LifterConfig, lifter_losses, mpjpe, pa_mpjpe

TEXT_SLOTS = 16
MAX_WINDOW = 5


def _cache_root() -> Path:
    d = Path.home() / ".cache" / "posetailor" / "capture_data"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --- text features -----------------------------------------------------------------------------------------

def pool_slots(states: torch.Tensor, mask: torch.Tensor, slots: int = TEXT_SLOTS):
    """Token states (B, L, 384) + mask → (B, slots, 384) averages of consecutive valid-token chunks (fewer
    tokens than slots: one token per slot) and the slot mask (B, slots)."""
    B = states.shape[0]
    out = torch.zeros(B, slots, states.shape[-1])
    m = torch.zeros(B, slots, dtype=torch.bool)
    for i in range(B):
        s = states[i][mask[i]]
        L = len(s)
        if L == 0:
            continue
        if L <= slots:
            out[i, :L], m[i, :L] = s, True
        else:
            edges = np.linspace(0, L, slots + 1).astype(int)
            for k in range(slots):
                out[i, k] = s[edges[k]:edges[k + 1]].mean(0)
            m[i] = True
    return out, m


def encode_texts(texts: list[str], batch: int = 128, log=_log):
    """Frozen MiniLM → (slots fp16 (N, 16, 384), slot mask (N, 16), pooled fp32 (N, 384))."""
    from core_models.nets.text_encoder import get_text_encoder

    enc = get_text_encoder()
    S, M, P = [], [], []
    t0 = time.time()
    for i in range(0, len(texts), batch):
        tf = enc.encode_tokens(texts[i:i + batch])
        s, m = pool_slots(tf.states, tf.mask)
        S.append(s.half())
        M.append(m)
        P.append(tf.pooled())
        if (i // batch) % 20 == 0:
            log(f"[text] {min(i + batch, len(texts))}/{len(texts)} ({time.time() - t0:.0f} s)")
    if not texts:
        return (torch.zeros(0, TEXT_SLOTS, 384, dtype=torch.float16), torch.zeros(0, TEXT_SLOTS, dtype=torch.bool),
                torch.zeros(0, 384))
    return torch.cat(S), torch.cat(M), torch.cat(P)


# --- data --------------------------------------------------------------------------------------------------

@dataclass
class CaptureData:
    idx: np.ndarray            # (N,) corpus indices of the target frames
    world: np.ndarray          # (N, MAX_WINDOW, 33, 3) body-frame landmarks, oldest first, last = target frame
    joints: np.ndarray         # (N, 22, 3) body-frame joints of the target frame
    root_orient: np.ndarray    # (N, 3) normalised pose (heading removed)
    body_pose: np.ndarray      # (N, 21, 3)
    texts: list                # (N,) one description per pose ('' when none)
    text_slots: torch.Tensor   # (N, 16, 384) fp16
    text_mask: torch.Tensor    # (N, 16) bool
    text_pooled: torch.Tensor  # (N, 384)

    def __len__(self):
        return len(self.idx)

    def subset(self, sel) -> "CaptureData":
        sel = np.asarray(sel)
        ts = torch.as_tensor(sel)
        return CaptureData(self.idx[sel], self.world[sel], self.joints[sel], self.root_orient[sel],
                           self.body_pose[sel], [self.texts[i] for i in sel], self.text_slots[ts],
                           self.text_mask[ts], self.text_pooled[ts])


def window_indices(corpus_arrays: dict, idx: np.ndarray, window: int = MAX_WINDOW) -> np.ndarray:
    """(N, window) corpus indices of the causal window ending at each idx (same clip, same mirroring; clamped to
    the clip's first frame)."""
    clip, mir = corpus_arrays["clip"], corpus_arrays["mirrored"]
    out = np.empty((len(idx), window), np.int64)
    out[:, -1] = idx
    for k in range(1, window):
        prev = out[:, -k] - 1
        ok = (prev >= 0)
        prev_c = np.where(ok, prev, 0)
        ok &= (clip[prev_c] == clip[out[:, -k]]) & (mir[prev_c] == mir[out[:, -k]])
        out[:, -k - 1] = np.where(ok, prev_c, out[:, -k])
    return out


def build_capture_data(corpus_dir: str | Path, split: str, max_n: int | None = None, seed: int = 0,
                       with_text: bool = True, describe_missing: bool = False, log=_log) -> CaptureData:
    """Poses of ``split`` that have descriptions (all of the split's selected poses with ``describe_missing``:
    described on the fly, e.g. for ``--mocap`` corpora), subsampled to ``max_n``; cached on disk."""
    from core_models.data.corpus import Corpus

    corpus_dir = Path(corpus_dir)
    c = Corpus(corpus_dir)
    a = c.arrays
    desc_f = corpus_dir / "descriptions.json"
    if desc_f.exists() and (corpus_dir / "descriptions_index.npy").exists():
        didx = np.load(corpus_dir / "descriptions_index.npy", allow_pickle=False)
        descs = json.loads(desc_f.read_text())
        stamp = f"{desc_f.stat().st_mtime_ns}"
    elif describe_missing or not with_text:
        didx, descs, stamp = c.indices(selected_only=True), None, "nodesc"
    else:
        raise FileNotFoundError(f"no descriptions in {corpus_dir}: run python main.py data build first")
    split_id = ("train", "val", "test").index(split)
    keep = np.nonzero(a["split"][didx] == split_id)[0]
    rng = np.random.default_rng(seed)
    if max_n is not None and len(keep) > max_n:
        keep = np.sort(rng.choice(keep, max_n, replace=False))
    key = hashlib.sha1(f"{corpus_dir.resolve()}|{(corpus_dir / 'corpus.npz').stat().st_mtime_ns}|{stamp}|{split}|"
                       f"{max_n}|{seed}|{with_text}|{len(keep)}|v1".encode()).hexdigest()[:16]
    cf = _cache_root() / f"{key}.npz"
    idx = didx[keep]
    if descs is not None:
        texts = [descs[k][int(i) % len(descs[k])] if descs[k] else "" for k, i in zip(keep, idx)]
    elif with_text:
        from core_models.captioning.describe import describe
        from core_models.pose import Pose

        texts = list(describe(Pose(a["root_orient"][idx], a["body_pose"][idx]), seed=seed))
    else:
        texts = [""] * len(idx)
    if cf.exists():
        with np.load(cf, allow_pickle=False) as z:
            d = {k: z[k] for k in z.files}
        log(f"[data] {split}: {len(idx)} poses (cached {cf.name})")
    else:
        lm = synth.LandmarkModel()
        win = window_indices(a, idx)
        uniq, inv = np.unique(win, return_inverse=True)
        from core_models.pose import Pose

        Wu = lm.world_from_poses(Pose(a["root_orient"][uniq], a["body_pose"][uniq]))
        world = Wu[inv.reshape(win.shape)]
        from core_models.kinematics import fk_numpy

        mats = Pose(a["root_orient"][idx], a["body_pose"][idx]).matrices().astype(np.float64)
        joints = fk_numpy(mats, lm.rest_joints)[1].astype(np.float32)
        d = dict(world=world.astype(np.float32), joints=joints)
        if with_text:
            t0 = time.time()
            s, m, p = encode_texts(texts, log=log)
            log(f"[data] {split}: encoded {len(texts)} descriptions in {time.time() - t0:.0f} s")
            d.update(text_slots=s.numpy(), text_mask=m.numpy(), text_pooled=p.numpy())
        np.savez(cf, **d)
        log(f"[data] {split}: {len(idx)} poses → {cf}")
    n = len(idx)
    if "text_slots" in d:
        ts, tm, tp = (torch.from_numpy(d["text_slots"]), torch.from_numpy(d["text_mask"]),
                      torch.from_numpy(d["text_pooled"]))
    else:
        ts, tm, tp = (torch.zeros(n, TEXT_SLOTS, 384, dtype=torch.float16), torch.zeros(n, TEXT_SLOTS, dtype=torch.bool),
                      torch.zeros(n, 384))
    return CaptureData(idx, d["world"], d["joints"], a["root_orient"][idx], a["body_pose"][idx], texts, ts, tm, tp)


def capture_data_from_poses(pose, texts: list[str] | None = None, text_features=None,
                            model: synth.LandmarkModel | None = None) -> CaptureData:
    """In-memory :class:`CaptureData` for a batch of (normalised) poses, static windows (tests, small tools).
    ``text_features``: (slots (N,16,384), mask (N,16), pooled (N,384)) or None (zeros; or encoded with the
    frozen MiniLM when ``texts`` are given)."""
    from core_models.kinematics import fk_numpy

    model = model or synth.LandmarkModel()
    n = len(pose.root_orient)
    W = model.world_from_poses(pose)
    world = np.repeat(W[:, None], MAX_WINDOW, 1)
    joints = fk_numpy(pose.matrices().astype(np.float64), model.rest_joints)[1].astype(np.float32)
    texts = list(texts) if texts is not None else [""] * n
    if text_features is None:
        text_features = encode_texts(texts) if any(texts) else (
            torch.zeros(n, TEXT_SLOTS, 384, dtype=torch.float16), torch.zeros(n, TEXT_SLOTS, dtype=torch.bool),
            torch.zeros(n, 384))
    ts, tm, tp = text_features
    return CaptureData(np.arange(n), world, joints, np.asarray(pose.root_orient, np.float32),
                       np.asarray(pose.body_pose, np.float32), texts, ts, tm, tp)


def make_batch(data: CaptureData, sel, rng: np.random.Generator, window: int, cfg: synth.SynthConfig | None = None):
    """Fresh synthetic observations for rows ``sel``: (kp (B, window, 33, 4), target joints (B, 22, 3)
    root-relative in the camera-aligned frame, obs)."""
    W = data.world[sel][:, MAX_WINDOW - window:]
    obs = synth.synthesize(W, rng, cfg)
    kp = synth.keypoint_features(obs.pixels, obs.visibility, obs.presence)
    J = data.joints[sel]
    tgt = np.einsum("nab,nkb->nka", obs.R, J - J[:, :1])
    return torch.from_numpy(kp), torch.from_numpy(tgt.astype(np.float32)), obs


# --- training ----------------------------------------------------------------------------------------------

def train_one(cfg: LifterConfig, train: CaptureData, epochs: int, batch: int = 256, lr: float = 1e-3,
              alpha: float = 0.5, beta: float = 0.1, seed: int = 0, max_minutes: float | None = None,
              log=_log, tau: float = 1.0) -> tuple[Lifter, dict]:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = Lifter(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    steps_per_epoch = max(1, len(train) // batch)
    total = epochs * steps_per_epoch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=total, pct_start=0.1)
    t0 = time.time()
    step = 0
    hist = {}
    for ep in range(epochs):
        perm = rng.permutation(len(train))
        agg: dict[str, float] = {}
        for b in range(steps_per_epoch):
            sel = perm[b * batch:(b + 1) * batch]
            kp, tgt, _ = make_batch(train, sel, rng, cfg.window)
            ts = torch.as_tensor(sel)
            text = train.text_slots[ts].float() if cfg.align != "none" else None
            losses = lifter_losses(model, kp, tgt, text, train.text_mask[ts], alpha, beta, tau)
            opt.zero_grad()
            losses["total"].backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            for k, v in losses.items():
                agg[k] = agg.get(k, 0.0) + float(v.detach())
        hist = {k: v / steps_per_epoch for k, v in agg.items()}
        log(f"[lifter {cfg.align} T={cfg.window}] epoch {ep + 1}/{epochs} "
            + " ".join(f"{k} {v:.4f}" for k, v in hist.items()) + f" ({time.time() - t0:.0f} s)")
        if max_minutes and time.time() - t0 > 60 * max_minutes and ep + 1 < epochs:
            log(f"[lifter] stopping after {ep + 1} epochs (time budget {max_minutes} min)")
            break
    model.eval()
    return model, {"seconds": round(time.time() - t0, 1), "epochs_run": ep + 1, "final": hist}


@torch.no_grad()
def evaluate(model: Lifter, data: CaptureData, seed: int = 123, batch: int = 1024) -> dict:
    """MPJPE / PA-MPJPE (mm) and per-axis mean absolute error on one fixed synthetic draw of ``data``."""
    rng = np.random.default_rng(seed)
    e1, e2, ax = [], [], []
    for s in range(0, len(data), batch):
        sel = np.arange(s, min(s + batch, len(data)))
        kp, tgt, _ = make_batch(data, sel, rng, model.cfg.window)
        pred = model(kp)
        e1.append(mpjpe(pred, tgt))
        e2.append(pa_mpjpe(pred, tgt))
        p, t = pred - pred[:, :1], tgt - tgt[:, :1]
        ax.append((p - t).abs().mean(1))
    e1, e2, ax = torch.cat(e1), torch.cat(e2), torch.cat(ax)
    return {"mpjpe_mm": round(float(e1.mean()) * 1000, 2), "pa_mpjpe_mm": round(float(e2.mean()) * 1000, 2),
            "abs_xyz_mm": [round(float(v) * 1000, 2) for v in ax.mean(0)], "n": len(data)}


def variant_name(align: str, window: int) -> str:
    return f"{align}_T{window}"


def load_variants(directory: Path | None = None) -> tuple[dict[str, Lifter], dict]:
    """All lifter variants shipped in lifter.pt ({name: model}, manifest config)."""
    from core_models.nets.weights import float_state, load_weights

    blob = load_weights("lifter", directory)
    cfgs = blob["config"]["variants"]
    st = float_state(blob["state"])
    out = {}
    for name, cd in cfgs.items():
        m = Lifter(LifterConfig.from_dict(dict(cd, align="none")))
        pre = f"{name}."
        m.load_state_dict({k[len(pre):]: v for k, v in st.items() if k.startswith(pre)})
        m.eval()
        out[name] = m
    return out, blob["config"]


def load_lifter(name: str | None = None, directory: Path | None = None) -> Lifter:
    models, cfg = load_variants(directory)
    return models[name or cfg["default"]]


def _print_table(results: dict, title: str) -> None:
    print(title)
    print(f"{'variant':<10} {'window':>6} {'MPJPE':>8} {'PA-MPJPE':>9} {'|x|':>6} {'|y|':>6} {'|z|':>6} "
          f"{'gain vs none':>12}")
    for name, r in results.items():
        align, T = name.split("_T")
        base = results.get(f"none_T{T}")
        gain = "" if (base is None or align == "none") else \
            f"{100 * (base['mpjpe_mm'] - r['mpjpe_mm']) / base['mpjpe_mm']:+.1f} %"
        x, y, z = r["abs_xyz_mm"]
        print(f"{align:<10} {T:>6} {r['mpjpe_mm']:>8.1f} {r['pa_mpjpe_mm']:>9.1f} {x:>6.1f} {y:>6.1f} {z:>6.1f} "
              f"{gain:>12}")


# --- CLI ---------------------------------------------------------------------------------------------------

def add_train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpus", default=None, help="corpus folder (default: the built corpus)")
    p.add_argument("--variants", default="none,fc,tf,cm", help="alignment variants (none = no text)")
    p.add_argument("--windows", default="1,5", help="input windows (frames); the text variants run on the first")
    p.add_argument("--window-variants", default="none,cm", help="variants also trained on the other windows")
    p.add_argument("--n-train", type=int, default=12000)
    p.add_argument("--n-test", type=int, default=2000)
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--alpha", type=float, default=0.5, help="KL alignment weight")
    p.add_argument("--beta", type=float, default=0.1, help="auxiliary (text branch) regression weight")
    p.add_argument("--d", type=int, default=64)
    p.add_argument("--layers", type=int, default=3)
    p.add_argument("--max-minutes", type=float, default=None, help="per-variant time budget")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out-dir", default=None, help="weights folder (default resources/weights)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--cm-residual", default="pose", choices=("pose", "text"),
                   help="CM block residual: on the pose queries, or on the text stream (Eq. 5)")
    p.add_argument("--tau", type=float, default=1.0, help="softmax temperature of the feature KL")
    p.add_argument("--tag", default="", help="suffix of the variant names (e.g. a hyper-parameter setting)")
    p.add_argument("--merge", action="store_true",
                   help="add the trained variants to the existing lifter.pt instead of replacing it "
                        "(lets the window-5 and single-frame runs go in separate processes)")


def run_train(args) -> int:
    from core_models.data.corpus import default_corpus_dir
    from core_models.nets.weights import save_weights

    torch.set_num_threads(args.threads)
    t_all = time.time()
    cdir = Path(args.corpus) if args.corpus else default_corpus_dir()
    train = build_capture_data(cdir, "train", args.n_train, args.seed)
    test = build_capture_data(cdir, "test", args.n_test, args.seed + 1, with_text=False)
    windows = [int(w) for w in args.windows.split(",")]
    plan = [(v, windows[0]) for v in args.variants.split(",")]
    plan += [(v, w) for w in windows[1:] for v in args.window_variants.split(",")]
    results, state, cfgs, train_info = {}, {}, {}, {}
    for align, T in plan:
        cfg = LifterConfig(window=T, align=align, d=args.d, layers=args.layers, cm_residual=args.cm_residual)
        model, info = train_one(cfg, train, args.epochs, args.batch, args.lr, args.alpha, args.beta, args.seed,
                                args.max_minutes, tau=args.tau)
        info.update(alpha=args.alpha, beta=args.beta, tau=args.tau)
        name = variant_name(align + (f"-{args.tag}" if args.tag and align != "none" else ""), T)
        results[name] = evaluate(model, test)
        train_info[name] = info
        _log(f"[lifter] {name}: {results[name]} ({info['seconds']} s)")
        for k, v in model.inference_state().items():
            state[f"{name}.{k}"] = v
        cfgs[name] = cfg.to_dict()
    out = Path(args.out_dir) if args.out_dir else None
    commands = ["python main.py train lifter " + " ".join(sys.argv[3:])]
    seconds = round(time.time() - t_all, 1)
    if args.merge:
        from core_models.nets.weights import WeightsError, load_weights, manifest

        try:
            blob, man = load_weights("lifter", out), manifest("lifter", out)
            for k, v in blob["state"].items():
                if k.split(".")[0] not in cfgs:
                    state[k] = v
            for n, c in blob["config"]["variants"].items():
                if n not in cfgs:
                    cfgs[n] = c
                    results.setdefault(n, man.get("metrics", {}).get(n))
                    train_info.setdefault(n, man.get("train", {}).get(n))
            commands = man.get("commands", [man.get("command")]) + commands
            seconds += float(man.get("train_seconds", 0))
        except WeightsError as e:
            _log(f"[lifter] nothing to merge with ({e})")
    results = {n: results[n] for n in sorted(results, key=lambda n: (int(n.split("_T")[1]), n != "none_T" +
                                                                      n.split("_T")[1], n))}
    _print_table(results, f"lifter on held-out clips (test split, {len(test)} poses, synthetic MediaPipe-like input)")
    # the live default: the best window model
    windows = sorted({int(n.split("_T")[1]) for n in cfgs})
    wmax = max(windows)
    cands = {n: r for n, r in results.items() if n.endswith(f"_T{wmax}")}
    default = min(cands, key=lambda n: cands[n]["mpjpe_mm"])
    meta = {"command": " && ".join(commands), "commands": commands, "data": str(cdir), "n_train": len(train),
            "n_test": len(test), "metrics": results, "train": train_info, "train_seconds": seconds,
            "default": default}
    f = save_weights("lifter", state, {"variants": cfgs, "default": default}, meta, directory=out, half=True)
    print(json.dumps({"name": "lifter_train", "default": default, "metrics": results,
                      "seconds": round(time.time() - t_all, 1), "weights": str(f)}))
    return 0


def add_eval_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpus", default=None)
    p.add_argument("--mocap", default=None, help="evaluate on the clips of this mocap folder (built on the fly)")
    p.add_argument("--n-test", type=int, default=2000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--weights-dir", default=None)
    p.add_argument("--threads", type=int, default=1)


def mocap_corpus(mocap: str) -> Path:
    """Build a corpus from a mocap folder into a temporary folder; every clip counts as held out."""
    import tempfile

    from core_models.data.corpus import build_corpus

    out = Path(tempfile.mkdtemp(prefix="posetailor_eval_"))
    build_corpus(mocap, out_dir=out, target=5000, log=_log)
    with np.load(out / "corpus.npz", allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["split"] = np.full_like(arrays["split"], 2)   # all clips unseen: evaluate on all of them
    np.savez(out / "corpus.npz", **arrays)
    return out


def run_eval(args) -> int:
    from core_models.data.corpus import default_corpus_dir

    torch.set_num_threads(args.threads)
    if args.mocap:
        cdir = mocap_corpus(args.mocap)
        test = build_capture_data(cdir, "test", args.n_test, args.seed, with_text=False)
    else:
        cdir = Path(args.corpus) if args.corpus else default_corpus_dir()
        test = build_capture_data(cdir, "test", args.n_test, args.seed, with_text=False)
    models, cfg = load_variants(Path(args.weights_dir) if args.weights_dir else None)
    results = {n: evaluate(m, test) for n, m in models.items()}
    _print_table(results, f"lifter on held-out clips ({args.mocap or 'test split'}, {len(test)} poses)")
    out = {"name": "lifter_eval", "data": str(args.mocap or cdir), "metrics": results, "default": cfg["default"]}
    for T in sorted({n.split("_T")[1] for n in results}):
        base = results.get(f"none_T{T}")
        al = {n: r for n, r in results.items() if n.endswith(f"_T{T}") and not n.startswith("none")}
        if base and al:
            best = min(al, key=lambda n: al[n]["mpjpe_mm"])
            out[f"gain_T{T}_pct"] = round(100 * (base["mpjpe_mm"] - al[best]["mpjpe_mm"]) / base["mpjpe_mm"], 2)
    print(json.dumps(out))
    return 0
