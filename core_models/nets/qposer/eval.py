"""``python main.py eval qposer``: QPoser Table 1/2-style numbers (see :mod:`core_models.nets.qposer.train`).
Ends with one JSON line."""
from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from core_models.device import model_device
from core_models.nets.common.weights import (
    WeightsError,
)
from core_models.nets.qposer.data import (
    clause_cache_path,
    corpus_rotmats,
    make_examples,
)
from core_models.nets.qposer.infer import (
    VAEPrior,
    load_gen,
    load_prompter,
    load_qposer,
    load_vae_baseline,
)
from core_models.nets.qposer.model import (
    MaskedCodeTransformer,
    QPoser,
    ablation_config,
    body_rotmats,
    mpjae_deg,
)
from core_models.nets.qposer.train import code_dependencies, evaluate_prompting, train_prior
from core_models.nets.training.common import report, set_threads

# QPoser Table 1 (AMASS, 21 body joints): reconstruction / escalated MPJAE (deg), mean (std)
PAPER: dict[str, dict[str, tuple[float | None, float | None]]] = {
    "QPoser (paper)": {"recon": (2.62, 1.64), "esc50": (0.34, 1.49), "esc1000": (0.33, None)},
    "VPoser (paper)": {"recon": (7.47, 5.57), "esc50": (13.06, 12.94), "esc1000": (None, None)},
}
PAPER_ABL = {"1 head": (14.96, 0.62), "8 heads": (9.70, 0.52), "8 heads + GLIF": (9.09, 0.94),
             "32 heads": (5.15, 0.69), "32 heads + GLIF": (3.82, 0.50), "63 heads + GLIF (final)": (2.62, 0.34)}




class QPoserPrior:
    """QPoser through the metrics' interface: rotations (any device) go to the model's device in chunks, the
    reconstructions come back on ``R``'s device."""

    def __init__(self, model: QPoser):
        self.model = model

    @torch.no_grad()
    def reconstruct(self, R: torch.Tensor) -> torch.Tensor:
        dev = model_device(self.model)
        return torch.cat([self.model.reconstruct(R[i:i + 2048].to(dev)).to(R.device) for i in range(0, len(R), 2048)])


@torch.no_grad()
def reconstruction_metrics(prior, R: torch.Tensor, iters: tuple[int, ...] = (50, 1000),
                           iter_subset: int | None = 1000) -> dict:
    """Reconstruction MPJAE and escalated error (error after k encode/decode rounds − error after one), on
    ``R`` (B,21,3,3). Rounds stop early for poses that reached a fixed point (exact for QPoser: same codes →
    same pose)."""
    P1 = prior.reconstruct(R)
    e1 = mpjae_deg(P1, R)
    out = {"n": int(len(R)), "recon_mean": float(e1.mean()), "recon_std": float(e1.std())}
    sub = torch.arange(len(R)) if iter_subset is None else torch.arange(min(len(R), iter_subset))
    P = P1[sub].clone()
    R0, e1s = R[sub], e1[sub]
    active = torch.ones(len(sub), dtype=torch.bool)
    k = 1
    for target in sorted(iters):
        while k < target:
            if not active.any():
                k = target
                break
            Pa = P[active]
            Pn = prior.reconstruct(Pa)
            moved = (Pn - Pa).abs().flatten(1).amax(1) > 1e-6
            P[active] = Pn
            idx = torch.nonzero(active).flatten()
            active[idx[~moved]] = False
            k += 1
        esc = mpjae_deg(P, R0) - e1s
        out[f"esc{target}_mean"] = float(esc.mean())
        out[f"esc{target}_std"] = float(esc.std())
    out["iter_n"] = int(len(sub))
    out["not_converged_after_max"] = int(active.sum())
    return out


@torch.no_grad()
def codebook_stats(model: QPoser, R: torch.Tensor) -> dict:
    dev = model_device(model)
    idx = torch.cat([model.encode(R[i:i + 4096].to(dev)).cpu() for i in range(0, len(R), 4096)])
    sizes = model.head_sizes()
    usage, perp, nperp = [], [], []
    for h, K in enumerate(sizes):
        cnt = torch.bincount(idx[:, h], minlength=K).float()
        p = cnt / cnt.sum()
        ent = -(p[p > 0] * p[p > 0].log()).sum()
        usage.append(float((cnt > 0).float().mean()))
        perp.append(float(ent.exp()))
        nperp.append(float(ent.exp()) / K)
    return {"usage": float(np.mean(usage)), "perplexity": float(np.mean(perp)),
            "perplexity_frac": float(np.mean(nperp)), "heads": len(sizes)}


# --- data sets -------------------------------------------------------------------------------------------

def library_rotmats() -> tuple[torch.Tensor, list[str]]:
    from core_models.library import load_builtin

    items = load_builtin()
    return body_rotmats(np.stack([it.pose.body_pose for it in items])), [it.name for it in items]


def mocap_rotmats(folder: str) -> torch.Tensor:
    """Import + retarget every supported file of ``folder`` (build_corpus into a temporary folder)."""
    from core_models.data.corpus import Corpus, build_corpus

    with tempfile.TemporaryDirectory() as tmp:
        build_corpus(folder, out_dir=tmp, log=lambda m: None)
        c = Corpus(tmp)
        idx = c.indices(with_mirrors=False)
        return body_rotmats(c.arrays["body_pose"][idx])


# --- random samples -------------------------------------------------------------------------------------

@torch.no_grad()
def sample_sets(model: QPoser, vae, gen, n: int, seed: int, test_R: torch.Tensor) -> dict[str, torch.Tensor]:
    """Pose sets (CPU tensors) drawn by the samplers; the random numbers are drawn on the CPU (same seed, same
    draws on any device), the models run where they live."""
    g = torch.Generator().manual_seed(seed)
    dev = model_device(model)
    sizes = torch.as_tensor(model.head_sizes())
    out = {}
    out["test poses (reference)"] = test_R[torch.randperm(len(test_R), generator=g)[:n]]
    codes = (torch.rand(n, len(sizes), generator=g) * sizes).long()
    out["QPoser uniform codes"] = model.decode_indices(codes.to(dev)).cpu()
    if gen is not None:
        out["QPoser masked transformer"] = model.decode_indices(gen.sample(n, generator=g).to(dev)).cpu()
    if vae is not None:
        z = torch.randn(n, 32, generator=g).to(model_device(vae.vae))
        out["VAE N(0,I)"] = vae.vae.decode(z)[:, 1:].cpu()
    from core_models.pose import aa_to_matrix
    axis = torch.nn.functional.normalize(torch.randn(n, 21, 3, generator=g), dim=-1)
    ang = torch.rand(n, 21, 1, generator=g) * (np.pi / 2)
    out["joint space uniform (≤90°)"] = aa_to_matrix(axis * ang)
    return out


def sample_metrics(R: torch.Tensor, vae, body=None, n_body: int = 200) -> dict:
    import roma

    from core_models.pose import Pose, limit_violation_deg

    aa = roma.rotmat_to_rotvec(R).numpy()
    pose = Pose(np.zeros((len(aa), 3), np.float32), aa)
    viol = limit_violation_deg(pose)[:, 1:].max(1)
    m = {"n": int(len(R)), "within_limits_pct": float((viol <= 3.0).mean() * 100),
         "max_excess_deg": float(viol.mean())}
    if vae is not None:
        m["vae_prior_score"] = float(vae.plausibility(R).mean())
    k = min(len(R), 200)
    a, b = R[:k], R[torch.roll(torch.arange(k), 1)]
    m["diversity_deg"] = float(mpjae_deg(a, b).mean())
    if body is not None:
        from core_models.plausibility import PENETRATION_TOLERANCE_M, penetrations
        bad = 0
        kk = min(len(R), n_body)
        for i in range(kk):
            cs = penetrations(body, pose[i])
            bad += any(c.depth > PENETRATION_TOLERANCE_M + c.allowance for c in cs)
        m["self_penetration_pct"] = 100.0 * bad / kk
    return m


# --- the command ---------------------------------------------------------------------------------------

def _fmt(mean, std=None, w=6) -> str:
    if mean is None:
        return "—".rjust(w)
    return f"{mean:{w}.2f}" + (f" ± {std:.2f}" if std is not None else "")


def _eval_sets(args, corpus) -> dict[str, torch.Tensor]:
    """The pose sets of Table 1: held-out test clips, the library poses and (``--mocap``) unseen clips."""
    test_R = corpus_rotmats(corpus, "test", with_mirrors=False, max_n=args.max_poses, seed=0)
    sets: dict[str, torch.Tensor] = {f"test clips ({len(test_R)} poses)": test_R}
    lib_R, _ = library_rotmats()
    sets[f"library ({len(lib_R)} poses, unseen)"] = lib_R
    if args.mocap:
        m_R = mocap_rotmats(args.mocap)
        if len(m_R) > args.max_poses:
            m_R = m_R[torch.randperm(len(m_R), generator=torch.Generator().manual_seed(0))[:args.max_poses]]
        sets[f"--mocap {Path(args.mocap).name} ({len(m_R)} poses)"] = m_R
    return sets


def _optional_models(wdir: Path | None, device=None) -> tuple[VAEPrior | None, MaskedCodeTransformer | None]:
    vae = gen = None
    try:
        vae = VAEPrior(load_vae_baseline(wdir, device))
    except WeightsError as e:
        report(f"[eval] baseline VAE unavailable: {e}")
    try:
        gen = load_gen("qposer_gen", wdir, device)
    except WeightsError as e:
        report(f"[eval] masked transformer unavailable: {e}")
    return vae, gen


def _table1(model: QPoser, vae: VAEPrior | None, sets: dict[str, torch.Tensor]) -> dict:
    report("\n== Table 1: reconstruction / escalated error, MPJAE (degrees, 21 body joints), mean ± std ==")
    report(f"{'data':34s} {'model':22s} {'recon':>16s} {'esc@50':>16s} {'esc@1000':>16s} {'codebook use/perp':>18s}")
    out: dict = {}
    for sname, R in sets.items():
        out[sname] = {}
        priors = [("QPoser (ours)", QPoserPrior(model))] + ([("VPoser-style VAE", vae)] if vae else [])
        for pname, prior in priors:
            r = reconstruction_metrics(prior, R)
            cb = codebook_stats(model, R) if pname.startswith("QPoser") else None
            if cb:
                r["codebook"] = cb
            out[sname][pname] = r
            cbs = f"{cb['usage'] * 100:5.1f}% / {cb['perplexity']:5.1f}" if cb else ""
            report(f"{sname:34s} {pname:22s} {_fmt(r['recon_mean'], r['recon_std']):>16s} "
                   f"{_fmt(r['esc50_mean'], r['esc50_std']):>16s} {_fmt(r['esc1000_mean'], r['esc1000_std']):>16s} "
                   f"{cbs:>18s}")
    for pname, p in PAPER.items():
        report(f"{'AMASS (paper)':34s} {pname:22s} {_fmt(*p['recon']):>16s} {_fmt(*p['esc50']):>16s} "
               f"{_fmt(*p['esc1000']):>16s}")
    return out


def _random_samples(args, model: QPoser, vae: VAEPrior | None, gen: MaskedCodeTransformer | None,
                    test_R: torch.Tensor) -> dict:
    report("\n== Random samples: plausibility (joint limits ±3°, VAE-prior score: higher = more typical) ==")
    body = None
    try:
        if args.no_body:
            raise RuntimeError("--no-body")
        from core_models.body import load_body
        body = load_body("anny")
    except Exception as e:  # the body is only needed for the self-penetration column
        report(f"[eval] body unavailable ({e}); no self-penetration column")
    out = {}
    report(f"{'sampler':30s} {'within limits':>14s} {'mean excess':>12s} {'VAE score':>10s} {'self-pen.':>10s} "
           f"{'diversity':>10s}")
    for sname, R in sample_sets(model, vae, gen, args.samples, 0, test_R).items():
        m = sample_metrics(R, vae, body)
        out[sname] = m
        report(f"{sname:30s} {m['within_limits_pct']:13.1f}% {m['max_excess_deg']:11.2f}° "
               f"{m.get('vae_prior_score', float('nan')):10.3f} {m.get('self_penetration_pct', float('nan')):9.1f}% "
               f"{m['diversity_deg']:9.1f}°")
    return out


def read_prompt_file(path: str | Path) -> list[dict]:
    """The records of a prompt set (jsonl); a clear error names the bad line."""
    out = []
    with open(path, encoding="utf-8") as f:
        for k, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{k}: not JSON ({e})") from e
            if not isinstance(rec, dict) or "text" not in rec or not ("codes" in rec or "expect" in rec):
                raise ValueError(f"{path}:{k}: needs 'text' and 'codes' or 'expect'")
            out.append(rec)
    return out


def expectation_codes(exp: dict) -> tuple[int, set[int]]:
    """``{"op", "joints", "cats"}`` → (code index, accepted category indices)."""
    from core_models.captioning.posecodes import CODES, OPERATORS

    joints = tuple(exp["joints"])
    for c in CODES:
        if c.op == exp["op"] and c.joints == joints:
            cats = OPERATORS[c.op].categories
            bad = [x for x in exp["cats"] if x not in cats]
            if bad:
                raise ValueError(f"unknown categories {bad} of {c.op} (known: {cats})")
            return c.index, {cats.index(x) for x in exp["cats"]}
    raise ValueError(f"no posecode {exp['op']} on {joints}")


@torch.no_grad()
def evaluate_human_prompts(qp, prompter, records: list[dict]) -> dict:
    """Hand-written prompts: each one edits its library start pose's prompted parts (the parts the prompt's words
    name) with the prompt model's codes; an expectation is realised when the deterministic posecode of the
    result is in its accepted categories. ``unchanged``: the start pose already met it."""
    from core_models.captioning import posecodes as pc
    from core_models.library import load_builtin
    from core_models.nets.common.pose_vae import rotmats_to_pose
    from core_models.nets.qposer.infer import prompt_part_codes, prompted_parts
    from core_models.nets.qposer.model import full_rotmats

    lib = {it.name: it.pose for it in load_builtin()}
    dev = model_device(qp)
    deps = code_dependencies(body_rotmats(np.stack([p.body_pose for p in lib.values()])))
    tot = hit = hit0 = found = 0
    scope = [0, 0]  # expectations whose value depends on the prompted parts only: realised, total
    by_style: dict[str, list[int]] = {}
    for rec in records:
        if rec["start"] not in lib:
            raise ValueError(f"unknown start pose {rec['start']!r}")
        base = qp.encode(body_rotmats(lib[rec["start"]].body_pose[None]).to(dev)).cpu()
        pred = base.clone()
        parts = prompted_parts(rec["text"])
        for p, codes in prompt_part_codes(prompter, rec["text"], parts, base[0].numpy(), qp).items():
            pred[0, qp.group_slice(p)] = torch.as_tensor(codes)
        cats = pc.extract(rotmats_to_pose(full_rotmats(qp.decode_indices(torch.cat([base, pred]).to(dev)).cpu())),
                          None).cats
        want = set(rec.get("parts", []))
        found += int(want <= set(parts))
        for exp in rec["expect"]:
            ci, ok = expectation_codes(exp)
            tot += 1
            hit += int(int(cats[1, ci]) in ok)
            hit0 += int(int(cats[0, ci]) in ok)
            if deps[ci] and deps[ci] <= set(parts):
                scope[0] += int(int(cats[1, ci]) in ok)
                scope[1] += 1
            st = by_style.setdefault(rec.get("style", "?"), [0, 0])
            st[0] += int(int(cats[1, ci]) in ok)
            st[1] += 1
    return {"prompts": len(records), "expectations": tot, "realised_pct": round(100.0 * hit / max(tot, 1), 1),
            "unchanged_pct": round(100.0 * hit0 / max(tot, 1), 1),
            "parts_found_pct": round(100.0 * found / max(len(records), 1), 1),
            "in_scope_expectations": scope[1], "in_scope_realised_pct": round(100.0 * scope[0] / max(scope[1], 1), 1),
            "by_style": {k: round(100.0 * a / max(b, 1), 1) for k, (a, b) in sorted(by_style.items())}}


def _prompt_file(model: QPoser, prompter, corpus, path: str) -> dict:
    recs = read_prompt_file(path)
    if all("expect" in r for r in recs):
        res = evaluate_human_prompts(model, prompter, recs)
        report(f"[eval] {Path(path).name}: realised {res['realised_pct']}% of {res['expectations']} expectations "
               f"(start pose: {res['unchanged_pct']}%, parts found {res['parts_found_pct']}%; the "
               f"{res['in_scope_expectations']} that depend on the prompted parts only: "
               f"{res['in_scope_realised_pct']}%) {res['by_style']}")
        return res
    idx = np.asarray([int(r["corpus_index"]) for r in recs])
    poses = corpus.poses(idx)
    with torch.no_grad():
        codes = model.encode(body_rotmats(poses.body_pose).to(model_device(model))).cpu()
    ex = {"idx": idx, "texts": [r["text"] for r in recs], "used": [[tuple(c) for c in r["codes"]] for r in recs],
          "codes": codes}
    res = evaluate_prompting(model, prompter, ex)
    _report_prompting(Path(path).name, res)
    return res


def _prompting(model: QPoser, corpus, wdir: Path | None, args=None) -> dict | None:
    try:
        prompter = load_prompter(getattr(args, "prompt_name", None) or "qposer_prompt", wdir, model_device(model))
    except WeightsError as e:
        report(f"[eval] prompt model unavailable: {e}")
        return None
    cache = clause_cache_path(corpus)
    if cache.exists():
        prompter.feats.load(cache)
    out: dict = {}
    for f in getattr(args, "prompts", None) or []:
        out[Path(f).stem] = _prompt_file(model, prompter, corpus, f)
    if out:
        return out
    split = "test" if len(corpus.indices("test")) else "train"
    pr = evaluate_prompting(model, prompter, make_examples(corpus, split, 500, 1000, model))
    report("\n== Prompting (held-out descriptions; stated posecodes that depend only on the prompted parts) ==")
    _report_prompting("held-out descriptions", pr)
    return pr


def _report_prompting(name: str, pr: dict) -> None:
    """The prompting numbers of :func:`~core_models.nets.qposer.train.evaluate_prompting`, new metric and legacy."""
    lg = pr["legacy"]
    report(f"[eval] {name}: realised {pr['realised_pct']}% of {pr['prompted_codes']} prompted codes "
           f"(unchanged pose {pr['unchanged_pct']}%, oracle {pr['oracle_pct']}%; {pr['mean_prompted_parts']} parts "
           f"per description; excluded of {pr['stated_codes']} stated: {pr['excluded']})")
    report(f"[eval] {name}, legacy metric: realised {lg['realised_pct']}% of {lg['prompted_codes']} "
           f"(unchanged {lg['unchanged_pct']}%, true part codes {lg['oracle_pct']}%)")


def _ablations(args, corpus, test_R: torch.Tensor, shipped: dict) -> dict:
    report(f"\n== Table 2: ablations (short runs: ≤{args.ablation_minutes} min / {args.ablation_steps} steps each, "
           f"32 codes per codebook), test clips ==")
    train_R = corpus_rotmats(corpus, "train")
    sub = test_R[:1000]
    out = {}
    report(f"{'model':26s} {'recon':>16s} {'esc@50':>16s} {'paper recon / esc':>18s}")
    for n_heads, glif in ((1, False), (8, False), (8, True), (32, False), (32, True)):
        cfg = ablation_config(n_heads, glif)
        m, st = train_prior(cfg, train_R, None, steps=args.ablation_steps, minutes=args.ablation_minutes,
                            log_every=0, device=getattr(args, "device", None) or "cpu")
        r = reconstruction_metrics(QPoserPrior(m), sub, iters=(50,))
        name = f"{n_heads} head{'s' if n_heads > 1 else ''}" + (" + GLIF" if glif else "")
        r["train_steps"] = st["steps"]
        out[name] = r
        pp = PAPER_ABL.get(name)
        report(f"{name:26s} {_fmt(r['recon_mean'], r['recon_std']):>16s} "
               f"{_fmt(r['esc50_mean'], r['esc50_std']):>16s}"
               f" {(f'{pp[0]:.2f} / {pp[1]:.2f}' if pp else ''):>18s}  ({st['steps']} steps)")
    report(f"{'66 heads + GLIF (shipped)':26s} {_fmt(shipped['recon_mean'], shipped['recon_std']):>16s} "
           f"{_fmt(shipped['esc50_mean'], shipped['esc50_std']):>16s} {'2.62 / 0.34':>18s}")
    return out


#: ``--device cuda`` is allowed (core_models.cli.train_eval): the models run on the device, the pose sets and the
#: metrics stay on the CPU (each chunk is moved there and back)
DEVICE_CLEAN = True


def run_eval(args) -> int:
    set_threads(getattr(args, "threads", 1))
    from core_models.data.corpus import Corpus

    t0 = time.time()
    wdir = Path(args.weights_dir) if args.weights_dir else None
    try:
        model = load_qposer(args.name, wdir, getattr(args, "device", None) or "cpu")
    except WeightsError as e:
        report(f"error: {e}")
        return 2
    corpus = Corpus(args.corpus)
    if getattr(args, "stage", "all") == "prompt":
        return _run_prompt_only(args, model, corpus, wdir, t0)
    sets = _eval_sets(args, corpus)
    test_R = next(iter(sets.values()))
    vae, gen = _optional_models(wdir, model_device(model))
    result: dict = {"name": "qposer_eval", "sets": _table1(model, vae, sets), "paper": PAPER}
    result["samples"] = _random_samples(args, model, vae, gen, test_R)
    prompting = _prompting(model, corpus, wdir, args)
    if prompting is not None:
        result["prompting"] = prompting
    first = result["sets"][next(iter(result["sets"]))]["QPoser (ours)"]
    if args.ablations:
        result["ablations"] = _ablations(args, corpus, test_R, first)
    result["seconds"] = round(time.time() - t0, 1)
    result["value"] = round(first["recon_mean"], 3)
    result["unit"] = "deg MPJAE (test clips)"
    print(json.dumps(result, default=float))
    return 0


def _run_prompt_only(args, model: QPoser, corpus, wdir: Path | None, t0: float) -> int:
    """``--stage prompt``: only the prompt model's numbers (held-out descriptions, ``--prompts`` files)."""
    pr = _prompting(model, corpus, wdir, args)
    if pr is None:
        return 2
    print(json.dumps({"name": "qposer_prompt_eval", "prompting": pr, "seconds": round(time.time() - t0, 1)},
                     default=float))
    return 0


def add_eval_args(p) -> None:
    p.add_argument("--stage", choices=("all", "prompt"), default="all",
                   help="prompt: only the prompt model (held-out descriptions and --prompts files)")
    p.add_argument("--prompts", action="append", default=None,
                   help="prompt set (jsonl): frozen descriptions ({corpus_index, text, codes}) or hand-written "
                        "prompts ({text, start, expect}); repeatable")
    p.add_argument("--prompt-name", default="qposer_prompt", help="prompt model weights name")
    p.add_argument("--corpus", default=None, help="corpus folder (default ~/.cache/posetailor/corpus)")
    p.add_argument("--mocap", default=None, help="folder of mocap files the corpus never saw (imported on the fly)")
    p.add_argument("--max-poses", type=int, default=3000, help="test poses evaluated (random subset)")
    p.add_argument("--ablations", action="store_true", help="also train+evaluate the Table 2 ablations (short runs)")
    p.add_argument("--ablation-minutes", type=float, default=2.5)
    p.add_argument("--ablation-steps", type=int, default=3000)
    p.add_argument("--samples", type=int, default=500, help="random samples for the plausibility numbers")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--no-body", action="store_true", help="skip the self-penetration column (no body model)")
    p.add_argument("--weights-dir", default=None)
    p.add_argument("--name", default="qposer")
