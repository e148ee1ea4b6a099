"""``python main.py train all``: rebuild every shipped weight from raw mocap in one command.

The plan is read from the weights manifests (``resources/weights/*.json``, or ``--manifests DIR``): each
manifest records the command chain that produced its weights (``a && b && …``; lifter: ``commands``). The plan
replays those chains on a fresh corpus built from ``--mocap``, in dependency order:

  corpus (``data build``: corpus, pairs, modifiers, descriptions)
  → landmarks_<name> (``data landmarks``: the real-MediaPipe datasets the lifter / embroider train on, rendered from
    the new corpus; their build commands are the manifests' ``data_commands``)
  → qposer → qposer_gen, qposer_prompt (they encode with the new qposer) · qposer_vae_baseline
  → editor · corrector · judge · autopose · lifter → embroider (reads the new lifter)

The trainings find the run's landmark datasets through ``$POSETAILOR_LANDMARKS`` (set by the runner to
``<out>/landmarks``; the plan prints it in front of the commands that need it).

Each command is rewritten to read the new corpus (``--corpus``) and write into ``--out`` (chain steps into
``work/<name>_<k>``, each ``--init-from`` pointing at the step before; the last step — and ``--merge`` steps —
into ``weights/``). Everything else (configs, budgets, seeds, threads) is kept as recorded. The run is resumable
(:mod:`core_models.nets.training.stages`: a stage whose inputs' hashes and outputs are recorded is skipped) and
its manifest, ``<out>/train_all.json``, records commands, seeds, the data hash and the wall times.
``resources/weights`` is only written with ``--install`` (after every stage is done).
"""
from __future__ import annotations

import argparse
import functools
import importlib
import json
import os
import shlex
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # core_models.cli modules are all imported to build the CLI: no training code at import time
    from core_models.nets.training.stages import Runner, Stage

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MOCAP = ROOT.parent / "shared" / "data" / "mocap"
#: the flag naming a model's output folder (``--out`` of qposer is a weights *name*, not a folder)
OUT_FLAGS = {"editor": "--out", "corrector": "--out-dir", "qposer": "--weights-dir", "lifter": "--out-dir",
             "embroider": "--out-dir", "autopose": "--out-dir"}
#: flags with a value that the plan replaces (paths of the run that produced the shipped weights)
_REPLACED = {"--corpus", "--init-from", "--lifter-dir", "--device", "--exclude-source"}
#: stages that read another stage's weights (beside the corpus every stage reads)
NEEDS = {"qposer_gen": ("qposer",), "qposer_prompt": ("qposer",), "embroider": ("lifter",)}
ORDER = ("qposer", "qposer_vae_baseline", "qposer_gen", "qposer_prompt", "editor", "corrector", "judge",
         "autopose", "lifter", "embroider")
CORPUS_ESTIMATE_S = 751.0  # issue 18: data build took 12 min 31 s on the 2-core CPU (corpus, pairs, captions)


#: ``--device cuda`` is passed on to every training command (each refuses a missing GPU clearly)
DEVICE_CLEAN = True


def manifest_commands(man: dict) -> list[list[str]]:
    """The recorded command chain of one manifest as argv lists after ``python main.py``."""
    lines = man.get("commands") or [c for c in str(man.get("command", "")).split(" && ") if c.strip()]
    out = []
    for line in lines:
        argv = shlex.split(line)
        while argv and argv[0] != "main.py":
            argv.pop(0)
        if len(argv) < 3 or argv[1] != "train":
            raise ValueError(f"not a 'python main.py train …' command: {line!r}")
        out.append(argv[1:])
    return out


def _strip(argv: list[str], flags: set[str]) -> tuple[list[str], dict[str, str]]:
    out, seen, i = [], {}, 0
    while i < len(argv):
        a = argv[i]
        key = a.split("=", 1)[0]
        if key in flags:
            if "=" in a:
                seen[key] = a.split("=", 1)[1]
                i += 1
            else:
                seen[key] = argv[i + 1] if i + 1 < len(argv) else ""
                i += 2
            continue
        out.append(a)
        i += 1
    return out, seen


@functools.lru_cache(maxsize=None)
def model_flags(model: str) -> tuple[str, bool]:
    """(the flag naming ``train MODEL``'s output folder, whether it takes ``--corpus``): from the table, else
    from the model's own parser (a model registered later)."""
    if model in OUT_FLAGS:
        return OUT_FLAGS[model], True
    from core_models.cli.train_eval import TRAIN_MODULES

    p = argparse.ArgumentParser(add_help=False)
    importlib.import_module(TRAIN_MODULES[model]).add_train_args(p)
    flags = {o for a in p._actions for o in a.option_strings}
    out = next((f for f in ("--weights-dir", "--out-dir", "--out") if f in flags), None)
    if out is None:
        raise ValueError(f"train {model} has no output folder option; the plan cannot redirect its weights")
    return out, "--corpus" in flags


#: models whose later commands update the weights folder in place — the lifter merges each variant into lifter.pt
#: and its real-landmark steps start from a variant already there (``--init VARIANT``); the PoseEmbroider's
#: ``--landmarks`` step fine-tunes the heads of the embroider.pt in its ``--out-dir`` — so every command of their
#: chains writes to the run's weights folder
IN_PLACE = frozenset({"lifter", "embroider"})


def rewrite(argv: list[str], k: int, n: int, name: str, dirs: dict[str, Path], extra: list[str]) -> list[str]:
    """One recorded ``train MODEL …`` command → the same command on the new corpus and folders."""
    model = argv[1]
    out_flag, reads_corpus = model_flags(model)
    cmd, seen = _strip(argv, _REPLACED | {out_flag, "--init-dir"})
    final = k == n - 1 or "--merge" in cmd or model in IN_PLACE
    dest = dirs["weights"] if final else dirs["work"] / f"{name}_{k}"
    cmd += (["--corpus", str(dirs["corpus"])] if reads_corpus else []) + [out_flag, str(dest)]
    if "--init-from" in seen:
        if k == 0:
            raise ValueError(f"{name}: the first command continues from {seen['--init-from']}, which the plan "
                             "cannot rebuild")
        prev = dirs["weights"] if "--merge" in argv else dirs["work"] / f"{name}_{k - 1}"
        cmd += ["--init-from", str(prev)]
    if model == "embroider":
        cmd += ["--lifter-dir", str(dirs["weights"])]
    return cmd + extra


#: estimated wall time of a landmark dataset build per image (real_v1: 29,760 rows in 6,080 s with --workers 2)
LANDMARK_S_PER_ROW = 6080.0 / 29760
_LANDMARK_REPLACED = {"--corpus-dir", "--root", "--resume"}


def landmark_stages(mans: dict[str, dict], dirs: dict[str, Path]) -> list[Stage]:
    """One stage per landmark dataset named in the manifests' ``data_commands`` (``python main.py data landmarks
    --name NAME …``), rewritten to render the run's corpus into ``<out>/landmarks`` (``--resume``: an interrupted
    build continues where it stopped)."""
    from core_models.nets.training.stages import Stage

    found: dict[str, list[str]] = {}
    for man in mans.values():
        for line in man.get("data_commands", []):
            argv = shlex.split(line)
            argv = argv[argv.index("main.py") + 1:] if "main.py" in argv else argv
            if argv[:2] != ["data", "landmarks"] or "--name" not in argv[:-1]:
                raise ValueError(f"not a 'python main.py data landmarks --name NAME …' command: {line!r}")
            found.setdefault(argv[argv.index("--name") + 1], argv)
    stages = []
    for name, argv in sorted(found.items()):
        cmd, _ = _strip(argv, _LANDMARK_REPLACED - {"--resume"})
        cmd = [a for a in cmd if a != "--resume"]
        rows = _landmark_rows(cmd)
        stages.append(Stage(f"landmarks_{name}", [cmd + ["--corpus-dir", str(dirs["corpus"]), "--root",
                                                         str(dirs["landmarks"]), "--resume"]],
                            [dirs["landmarks"] / name / "meta.json"], needs=("corpus",),
                            estimate_s=rows * LANDMARK_S_PER_ROW if rows else None))
    return stages


def _landmark_rows(cmd: list[str]) -> int | None:
    """Images a ``data landmarks`` command renders (stills + sequences × frames), from its options."""
    def opt(flag: str, default: int) -> int:
        return int(cmd[cmd.index(flag) + 1]) if flag in cmd[:-1] else default

    return opt("--n-still", 24000) + opt("--n-seq-clips", 60) * opt("--seq-frames", 96)


def landmark_needs(cmds: list[list[str]]) -> tuple[str, ...]:
    """The landmark stages a model's commands read (``--landmarks NAME``, ``--extra-landmarks A,B``)."""
    names = {n.strip() for c in cmds for flag in ("--landmarks", "--extra-landmarks") if flag in c[:-1]
             for n in c[c.index(flag) + 1].split(",") if n.strip()}
    return tuple(sorted(f"landmarks_{n}" for n in names))


def _estimate(man: dict, saved_s: float = 0.0) -> float | None:
    v = man.get("train_seconds")
    return max(float(v) - saved_s, 0.0) if isinstance(v, (int, float)) else None


def _real_variant(argv: list[str]) -> str | None:
    """The lifter variant a real-landmark step (``train lifter --landmarks …``) merges (``real[-TAG]_T1``)."""
    if argv[1] != "lifter" or "--landmarks" not in argv[:-1]:
        return None
    from core_models.nets.lifter.infer import real_variant_name

    return real_variant_name(argv[argv.index("--tag") + 1] if "--tag" in argv[:-1] else None)


def prune_dropped(chain: list[list[str]], man: dict) -> tuple[list[list[str]], float]:
    """The chain without the steps that only make a variant the shipped file dropped (manifest
    ``dropped_variants``) and that no later step starts from (``--init``) or pairs with (``--pair-with``): a
    rebuild would spend their time on weights nothing ships. Returns the kept steps and their recorded time budget
    (``--max-minutes``, seconds) taken off the stage's estimate."""
    dropped = set(man.get("dropped_variants") or [])
    if not dropped:
        return chain, 0.0
    kept, saved = [], 0.0
    for k, argv in enumerate(chain):
        refs = {a[a.index(f) + 1] for a in chain[k + 1:] for f in ("--init", "--pair-with") if f in a[:-1]}
        v = _real_variant(argv)
        if v is not None and v in dropped and v not in refs:
            saved += 60.0 * float(argv[argv.index("--max-minutes") + 1]) if "--max-minutes" in argv[:-1] else 0.0
            continue
        kept.append(argv)
    return kept, saved


def drop_step(chain: list[list[str]], man: dict, dirs: dict[str, Path]) -> list[list[str]]:
    """The lifter's last step when its manifest dropped variants that the (pruned) chain still makes, because
    later steps start from or pair with them: ``train lifter --drop-variants …`` removes them from the rebuilt
    lifter.pt, so it holds the shipped file's variants and no more."""
    made = {v for v in map(_real_variant, chain) if v is not None}
    gone = sorted(made & set(man.get("dropped_variants") or []))
    if not gone or chain[-1][1] != "lifter":
        return []
    return [["train", "lifter", "--drop-variants", ",".join(gone), "--out-dir", str(dirs["weights"])]]


def plan(manifests: Path, mocap: Path, out: Path, device: str = "cpu", exclude_source: str | None = None,
         corpus_args: list[str] | None = None, nproc: int = 1, skipped: dict[str, str] | None = None) -> list[Stage]:
    """The stages, in dependency order, that rebuild every weights file with a manifest in ``manifests``;
    ``nproc`` > 1: each training command runs under ``torchrun --standalone --nproc_per_node nproc``; a manifest
    whose commands cannot be replayed goes into ``skipped`` (name → why) instead."""
    from core_models.nets.training.stages import Stage

    dirs = {"corpus": out / "corpus", "weights": out / "weights", "work": out / "work", "landmarks": out / "landmarks"}
    extra = ["--device", device] if device != "cpu" else []
    loso = ["--exclude-source", exclude_source] if exclude_source else []
    corpus_files = [dirs["corpus"] / f for f in ("corpus.npz", "clips.json", "pairs.npz", "modifiers.json")]
    stages = [Stage("corpus", [["data", "build", "--mocap", str(mocap), "--out", str(dirs["corpus"]),
                                *(corpus_args or [])]], corpus_files, inputs=[mocap],
                    estimate_s=CORPUS_ESTIMATE_S)]
    names = sorted((f.stem for f in manifests.glob("*.json")),
                   key=lambda s: (ORDER.index(s) if s in ORDER else len(ORDER), s))
    mans = {name: json.loads((manifests / f"{name}.json").read_text()) for name in names}
    stages += landmark_stages(mans, dirs)
    known = {s.name for s in stages}
    for name in names:
        man = mans[name]
        if "command" not in man and "commands" not in man:
            continue
        try:
            chain, saved_s = prune_dropped(manifest_commands(man), man)
            cmds = [rewrite(c, k, len(chain), name, dirs, extra + (loso if model_flags(c[1])[1] else []))
                    for k, c in enumerate(chain)]
            cmds += drop_step(chain, man, dirs)
        except (ValueError, KeyError, ImportError) as e:  # reported in the plan and the run manifest
            if skipped is not None:
                skipped[name] = f"{type(e).__name__}: {e}"
            continue
        lms = landmark_needs(cmds)
        if any(n not in known for n in lms):
            if skipped is not None:
                skipped[name] = (f"reads landmark dataset(s) {', '.join(n[10:] for n in lms if n not in known)} "
                                 "that no manifest's data_commands builds")
            continue
        launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(nproc),
                    str(ROOT / "main.py")] if nproc > 1 else None
        label = f"torchrun --standalone --nproc_per_node {nproc} main.py" if launcher else "python main.py"
        stages.append(Stage(name, cmds, [dirs["weights"] / f"{name}.pt", dirs["weights"] / f"{name}.json"],
                            needs=("corpus", *lms, *NEEDS.get(name, ())), estimate_s=_estimate(man, saved_s),
                            launcher=launcher,
                            label=f"POSETAILOR_LANDMARKS={dirs['landmarks']} {label}" if lms else label))
    return stages


def _fmt(s: float | None) -> str:
    if s is None:
        return "?"
    return f"{int(s // 3600)} h {int(s % 3600 // 60):02d} min" if s >= 3600 else f"{s / 60:.1f} min"


def print_plan(stages: list[Stage], runner: Runner | None, only: set[str] | None, jobs: int = 1) -> None:
    from core_models.nets.training.stages import schedule_estimate

    todo = []
    w = max([22] + [len(",".join(st.needs)) for st in stages])
    print(f"{'stage':22s} {'needs':{w}s} {'estimate':>12s}  status")
    for st in stages:
        if only is not None and st.name not in only:
            continue
        status = "up to date (skipped)" if runner is not None and runner.done(st) else "to run"
        if status == "to run":
            todo.append(st)
        print(f"{st.name:22s} {','.join(st.needs) or '-':{w}s} {_fmt(st.estimate_s):>12s}  {status}")
        for line in st.command_lines():
            print(f"    {line}")
    serial = sum(st.estimate_s or 0.0 for st in todo)
    print(f"total estimate of the stages to run: {_fmt(serial)} one after the other"
          + (f", {_fmt(schedule_estimate(todo, jobs))} with --jobs {jobs}" if jobs > 1 else "")
          + " (the manifests' recorded training times on the 2-core CPU; evaluation after training adds a few "
            "minutes per model)")


def add_train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default=None, help="run folder (default: a new ~/.cache/posetailor/train_all/<time>; "
                                               "with --resume: the latest one)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out: skip the stages done")
    p.add_argument("--only", default=None, help="comma-separated stages to run (their prerequisites must be done)")
    p.add_argument("--dry-run", action="store_true", help="print the plan with time estimates; run nothing")
    p.add_argument("--install", action="store_true",
                   help="after every stage is done, copy the new weights + manifests into resources/weights")
    p.add_argument("--mocap", default=str(DEFAULT_MOCAP), help="raw motion capture folder")
    p.add_argument("--manifests", default=None, help="read the commands from these manifests (default: the "
                                                     "shipped resources/weights/*.json)")
    p.add_argument("--exclude-source", default=None, metavar="SOURCE",
                   help="train every model without this mocap source (a leave-one-source-out model set)")
    p.add_argument("--jobs", type=int, default=1,
                   help="stages run at the same time once what they need is done (e.g. 2 on a 2-core CPU: each "
                        "training command keeps its recorded --threads)")
    p.add_argument("--nproc", type=int, default=1,
                   help="processes per training command (torchrun --standalone --nproc_per_node N; DDP: gloo on the "
                        "CPU, nccl with --device cuda: one GPU each)")
    p.add_argument("--corpus-args", default="", help="extra options of the corpus build, e.g. '--target 20000'")


def _run_dir(args: argparse.Namespace) -> Path:
    base = Path.home() / ".cache" / "posetailor" / "train_all"
    if args.out:
        return Path(args.out).resolve()
    if args.resume:
        runs = sorted(p for p in base.glob("*") if (p / "train_all.json").exists())
        if not runs:
            raise FileNotFoundError(f"--resume without --out: no earlier run under {base}")
        return runs[-1]
    return base / time.strftime("%Y%m%d-%H%M%S")


def _install(stages: list[Stage], out: Path) -> None:
    from core_models.nets.common.weights import weights_dir

    dest = weights_dir()
    for st in stages[1:]:
        if st.name.startswith("landmarks_"):  # data, not weights
            continue
        for f in st.outputs:
            shutil.copy2(f, dest / f.name)
    print(f"[train all] installed {sum(not s.name.startswith('landmarks_') for s in stages[1:])} weights into {dest}")


def run_train(args: argparse.Namespace) -> int:
    from core_models.nets.common.weights import weights_dir
    from core_models.nets.training import distributed
    from core_models.nets.training.stages import Runner, data_hash, stage_dict

    if distributed.active():
        print("error: train all starts its own processes; run it without torchrun and pass --nproc N")
        return 2
    out = _run_dir(args)
    manifests = Path(args.manifests) if args.manifests else weights_dir()
    skipped: dict[str, str] = {}
    stages = plan(manifests, Path(args.mocap).resolve(), out, getattr(args, "device", "cpu") or "cpu",
                  args.exclude_source, shlex.split(args.corpus_args), max(1, args.nproc), skipped)
    for name, why in skipped.items():
        print(f"[train all] {name}: not rebuilt ({why})")
    only = {s.strip() for s in args.only.split(",")} if args.only else None
    unknown = sorted((only or set()) - {s.name for s in stages})
    if unknown:
        print(f"error: unknown stage(s) {', '.join(unknown)}; the plan has {', '.join(s.name for s in stages)}")
        return 2
    runner = Runner(out) if (out / "train_all.json").exists() else None
    print(f"[train all] run folder {out}; commands from {manifests}")
    if args.dry_run:
        print_plan(stages, runner, only, max(1, args.jobs))
        return 0
    if runner is not None and not args.resume:
        print(f"error: {out} holds an earlier run; pass --resume to continue it (done stages are skipped) or "
              "choose another --out")
        return 2
    if not Path(args.mocap).is_dir():
        print(f"error: mocap folder not found: {args.mocap}")
        return 2
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, POSETAILOR_LANDMARKS=str(out / "landmarks"))  # the run's landmark datasets
    if runner is None:
        runner = Runner(out, env=env)
    else:
        runner.env = env
    runner.state.update(command="python main.py " + " ".join(sys.argv[1:]), device=getattr(args, "device", "cpu"),
                        mocap=str(Path(args.mocap).resolve()), manifests=str(manifests),
                        exclude_source=args.exclude_source, plan=[stage_dict(s) for s in stages],
                        not_rebuilt=skipped)
    rc = runner.run(stages, only, max(1, args.jobs))
    if (out / "corpus" / "corpus.npz").exists():
        runner.state["data_hash"] = data_hash(out / "corpus")
        runner.save()
    done = [s.name for s in stages if runner.state["stages"].get(s.name, {}).get("status") == "done"]
    print(json.dumps({"name": "train_all", "out": str(out), "done": done, "returncode": rc,
                      "stage_seconds": {k: v.get("seconds") for k, v in runner.state["stages"].items()},
                      "data_hash": runner.state.get("data_hash")}))
    if rc == 0 and args.install:
        if len(done) < len(stages):
            print("error: --install needs every stage done; run the remaining ones first (--resume)")
            return 2
        _install(stages, out)
    return rc
