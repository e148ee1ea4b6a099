"""``python main.py train all`` end to end with tiny configs on a tiny corpus built from raw mocap: corpus →
qposer (a two-command chain) → qposer_gen (reads the new qposer); the run manifest and the resume (nothing
re-runs); the resumable runner on cheap stages (a changed input re-runs its stage and the ones after it, a
failure stops the run, --only needs its prerequisites); the plan read from the shipped manifests (commands
rewritten onto the run's folders, dependency order)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core_models.cli import train_all

ROOT = Path(__file__).resolve().parents[2]

TINY = {
    "qposer": "python main.py train qposer --config tiny --steps 30 --weights-dir /tmp/a && "
              "python main.py train qposer --config tiny --steps 10 --consistency 1 --init-from /tmp/a "
              "--weights-dir /tmp/b",
    "qposer_gen": "python main.py train qposer --stage gen --config tiny --steps 10 --seed 3",
}


def write_tiny_mocap(folder: Path, frames: int = 24) -> None:
    """Two sources, two BVH clips each, exported from random (limit-clamped) poses."""
    from core_models.body import load_body
    from core_models.export.bvh import write_bvh
    from core_models.pose import Pose, clamp_to_limits

    body = load_body("anny")
    rng = np.random.default_rng(0)
    for src in ("src_a", "src_b"):
        (folder / src).mkdir(parents=True)
        for k in range(2):
            full = clamp_to_limits(Pose.from_full(rng.normal(0, 0.3, (frames, 22, 3)).astype(np.float32))).full()
            transl = np.c_[np.linspace(0, 0.5, frames), np.full(frames, 0.9), np.zeros(frames)].astype(np.float32)
            write_bvh(folder / src / f"clip{k}.bvh", Pose.from_full(full, transl), body, fps=30.0)


def _main(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "main.py", "train", "all", *argv], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("train_all")
    write_tiny_mocap(base / "mocap")
    (base / "manifests").mkdir()
    for name, cmd in TINY.items():
        (base / "manifests" / f"{name}.json").write_text(json.dumps({"command": cmd, "train_seconds": 1.5}))
    (base / "manifests" / "no_command.json").write_text(json.dumps({"file": "x.pt"}))  # nothing to replay
    args = ["--out", str(base / "run"), "--mocap", str(base / "mocap"), "--manifests", str(base / "manifests")]
    r = _main(*args)
    return base, args, r


def test_tiny_plan_runs_end_to_end_and_records_a_manifest(run):
    base, _args, r = run
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    out = base / "run"
    for name in TINY:
        assert (out / "weights" / f"{name}.pt").exists() and (out / "weights" / f"{name}.json").exists()
    man = json.loads((out / "train_all.json").read_text())
    assert [s["name"] for s in man["plan"]] == ["corpus", "qposer", "qposer_gen"]
    st = man["stages"]
    assert all(st[n]["status"] == "done" and st[n]["seconds"] > 0 for n in ("corpus", *TINY))
    assert len(st["qposer"]["commands"]) == 2 and st["qposer_gen"]["seeds"] == [3]
    assert f"--init-from {out / 'work' / 'qposer_0'}" in st["qposer"]["commands"][1]
    assert len(man["data_hash"]) == 64 and man["mocap"] == str(base / "mocap")
    # the chain's second step continued from the first (its manifest chains both commands)
    qp = json.loads((out / "weights" / "qposer.json").read_text())
    assert qp["steps"] == 40 and " && " in qp["command"]
    assert str(out / "corpus") in json.dumps(qp["data"])


def _in_process(capsys, *argv: str) -> tuple[int, str]:
    import main

    rc = main.main(["train", "all", *argv])
    cap = capsys.readouterr()
    return rc, cap.out + cap.err


def test_resume_skips_what_is_up_to_date(run, capsys):
    base, args, _ = run
    out = base / "run"
    rc, text = _in_process(capsys, *args)
    assert rc == 2 and "--resume" in text  # never silently on top of an earlier run
    before = json.loads((out / "train_all.json").read_text())["stages"]
    rc, text = _in_process(capsys, *args, "--resume")
    assert rc == 0, text
    assert text.count("up to date") == 3
    after = json.loads((out / "train_all.json").read_text())["stages"]
    assert all(after[n]["finished"] == before[n]["finished"] for n in before)
    rc, text = _in_process(capsys, *args, "--resume", "--only", "nonsense")
    assert rc == 2 and "unknown stage(s) nonsense" in text


# --- the runner on cheap stages (python one-liners instead of trainings) ----------------------------------------

WRITE = "import sys, pathlib; src, dst = sys.argv[1:3]; t = pathlib.Path(src).read_text() if src != '-' else ''; " \
        "pathlib.Path(dst).write_text(t + sys.argv[3])"


def _stages(d: Path) -> list:
    from core_models.nets.training.stages import Stage

    return [Stage("a", [[str(d / "in.txt"), str(d / "a.txt"), "A"]], [d / "a.txt"], inputs=[d / "in.txt"]),
            Stage("b", [[str(d / "a.txt"), str(d / "b.txt"), "B"]], [d / "b.txt"], needs=("a",)),
            Stage("c", [["-", str(d / "c.txt"), "C"]], [d / "c.txt"])]


def _runner(d: Path, logs: list):
    from core_models.nets.training.stages import Runner

    return Runner(d, argv_prefix=[sys.executable, "-c", WRITE], log=logs.append)


def test_runner_reruns_a_stage_whose_input_changed_and_the_stages_after_it(tmp_path):
    (tmp_path / "in.txt").write_text("x")
    logs: list[str] = []
    assert _runner(tmp_path, logs).run(_stages(tmp_path)) == 0
    assert (tmp_path / "b.txt").read_text() == "xAB"
    logs.clear()
    assert _runner(tmp_path, logs).run(_stages(tmp_path)) == 0
    assert sum("up to date" in m for m in logs) == 3
    (tmp_path / "in.txt").write_text("changed")  # a's input → a runs, then b (its input, a's output, changed)
    logs.clear()
    assert _runner(tmp_path, logs).run(_stages(tmp_path)) == 0
    assert [m.split()[2].rstrip(":") for m in logs if "up to date" in m] == ["c"]
    (tmp_path / "b.txt").write_text("tampered")  # an output that lost its recorded hash → its stage runs again
    logs.clear()
    assert _runner(tmp_path, logs).run(_stages(tmp_path)) == 0
    assert [m.split()[2].rstrip(":") for m in logs if "up to date" in m] == ["a", "c"]
    assert (tmp_path / "b.txt").read_text() == "changedAB"


def test_runner_stops_at_a_failure_and_resume_continues(tmp_path):
    (tmp_path / "in.txt").write_text("x")
    stages = _stages(tmp_path)
    stages[1].commands = [["missing-file", str(tmp_path / "b.txt"), "B"]]  # b fails (no such input)
    logs: list[str] = []
    runner = _runner(tmp_path, logs)
    assert runner.run(stages) == 1
    st = json.loads((tmp_path / "train_all.json").read_text())["stages"]
    assert st["a"]["status"] == "done" and st["b"]["status"] == "failed" and "c" not in st
    assert "Traceback" in (tmp_path / st["b"]["log"]).read_text()
    with pytest.raises(RuntimeError, match="needs a, which has not run"):
        _runner(tmp_path / "elsewhere", logs).run(_stages(tmp_path), only={"b"})
    logs.clear()
    assert _runner(tmp_path, logs).run(_stages(tmp_path)) == 0  # fixed: a is skipped, b and c run
    assert [m.split()[2].rstrip(":") for m in logs if "up to date" in m] == ["a"]


def test_shipped_manifests_give_the_full_plan_in_dependency_order():
    run = Path("/srv/run")  # the plan only reads the manifests
    stages = train_all.plan(ROOT / "resources" / "weights", Path("/srv/mocap"), run)
    names = [s.name for s in stages]
    assert names[0] == "corpus"
    for stage in stages:  # every stage comes after what it needs
        assert all(names.index(d) < names.index(stage.name) for d in stage.needs)
        for argv in stage.commands[1:] if stage.name == "corpus" else stage.commands:
            assert "/tmp/" not in " ".join(argv) and "resources/weights" not in " ".join(argv)
            if "--drop-variants" in argv:  # edits the lifter.pt the chain made; reads no corpus
                continue
            flag = "--corpus-dir" if stage.name.startswith("landmarks_") else "--corpus"
            assert argv[argv.index(flag) + 1] == str(run / "corpus")
    for need in ("qposer", "qposer_gen", "qposer_prompt", "editor", "corrector", "judge", "autopose", "lifter",
                 "embroider"):
        assert need in names
    assert names.index("lifter") < names.index("embroider") and names.index("qposer") < names.index("qposer_gen")
    editor = stages[names.index("editor")]
    assert len(editor.commands) >= 2 and editor.commands[-1][editor.commands[-1].index("--out") + 1] == \
        str(run / "weights")
    assert sum(s.estimate_s or 0 for s in stages) > 3600  # the manifests' recorded training times


def test_rewrite_keeps_the_recorded_options_and_replaces_the_paths(tmp_path):
    dirs = {"corpus": tmp_path / "c", "weights": tmp_path / "w", "work": tmp_path / "k"}
    argv = ["train", "corrector", "--what", "judge", "--corpus=/old", "--out-dir", "/tmp/x", "--seed", "4"]
    cmd = train_all.rewrite(argv, 0, 1, "judge", dirs, ["--device", "cuda"])
    assert cmd == ["train", "corrector", "--what", "judge", "--seed", "4", "--corpus", str(dirs["corpus"]),
                   "--out-dir", str(dirs["weights"]), "--device", "cuda"]
    with pytest.raises(ValueError, match="cannot rebuild"):
        train_all.rewrite(["train", "editor", "--init-from", "resources/weights"], 0, 1, "editor", dirs, [])


def test_runner_runs_independent_stages_side_by_side(tmp_path):
    """--jobs 2: c (independent) runs beside a → b; the order of what needs what is kept."""
    (tmp_path / "in.txt").write_text("x")
    stages = _stages(tmp_path)
    for st in stages:  # each command also sleeps, so the two slots overlap measurably
        st.commands = [c + ["0.6"] for c in st.commands]
    logs: list[str] = []
    from core_models.nets.training.stages import Runner

    slow = WRITE + "; import time; time.sleep(float(sys.argv[4]))"
    runner = Runner(tmp_path, argv_prefix=[sys.executable, "-c", slow], log=logs.append)
    assert runner.run(stages, jobs=2) == 0
    st = json.loads((tmp_path / "train_all.json").read_text())["stages"]
    assert (tmp_path / "b.txt").read_text() == "xAB" and st["b"]["started"] >= st["a"]["finished"]
    assert st["c"]["started"] <= st["a"]["finished"]  # c did not wait for a
    assert json.loads((tmp_path / "train_all.json").read_text())["jobs"] == 2


def test_schedule_estimate_longest_ready_stage_first():
    from core_models.nets.training.stages import Stage, schedule_estimate

    def st(name, s, needs=()):
        return Stage(name, [], [], needs=needs, estimate_s=s)

    stages = [st("corpus", 10), st("short", 5, ("corpus",)), st("long", 100, ("corpus",)), st("mid", 50, ("corpus",)),
              st("after", 20, ("short",))]
    assert schedule_estimate(stages, 1) == 185
    assert schedule_estimate(stages, 2) == 110  # long on one slot; mid, short, after on the other
    assert schedule_estimate(stages, 5) == 110


def test_a_manifest_that_cannot_be_replayed_is_reported_not_fatal(tmp_path):
    (tmp_path / "odd.json").write_text(json.dumps({"command": "python tools/make_it.py --fast"}))
    (tmp_path / "autopose.json").write_text(json.dumps({"command": "python main.py train autopose --steps 5"}))
    skipped: dict[str, str] = {}
    stages = train_all.plan(tmp_path, Path("/srv/mocap"), Path("/srv/run"), skipped=skipped)
    assert [s.name for s in stages] == ["corpus", "autopose"]
    assert "not a 'python main.py train" in skipped["odd"]


def test_the_landmark_datasets_are_built_by_the_plan_and_read_by_the_lifter_and_embroider(monkeypatch):
    """The real-MediaPipe datasets the lifter and the embroider train on are stages of their own, rendered from the
    run's corpus into the run folder; the trainings read them there ($POSETAILOR_LANDMARKS)."""
    run = Path("/srv/run")
    stages = {s.name: s for s in train_all.plan(ROOT / "resources" / "weights", Path("/srv/mocap"), run)}
    for name in ("real_v1", "dev"):
        st = stages[f"landmarks_{name}"]
        (argv,) = st.commands
        assert argv[:4] == ["data", "landmarks", "--name", name] and "--resume" in argv
        assert argv[argv.index("--root") + 1] == str(run / "landmarks")
        assert st.needs == ("corpus",) and st.outputs == [run / "landmarks" / name / "meta.json"]
    assert stages["landmarks_real_v1"].estimate_s > 3600  # 29,760 images
    assert {"landmarks_real_v1", "landmarks_dev"} <= set(stages["lifter"].needs)
    assert "landmarks_real_v1" in stages["embroider"].needs and "landmarks_real_v1" not in stages["editor"].needs
    assert all(line.startswith(f"POSETAILOR_LANDMARKS={run / 'landmarks'} ")
               for line in stages["lifter"].command_lines())
    from core_models.capture import realdata

    monkeypatch.setenv("POSETAILOR_LANDMARKS", "/srv/run/landmarks")
    assert realdata.dataset_dir("real_v1") == Path("/srv/run/landmarks/real_v1")
    monkeypatch.delenv("POSETAILOR_LANDMARKS")
    monkeypatch.setenv("POSETAILOR_CACHE", "/srv/cache")
    assert realdata.dataset_dir("real_v1") == Path("/srv/cache/landmarks/real_v1")


def test_a_model_reading_a_landmark_dataset_nobody_builds_is_reported(tmp_path):
    (tmp_path / "lifter.json").write_text(json.dumps({"command": "python main.py train lifter --landmarks real_v9"}))
    (tmp_path / "embroider.json").write_text(json.dumps({
        "command": "python main.py train embroider --landmarks real_v1",
        "data_commands": ["python main.py data landmarks --name real_v1 --n-still 10 --n-seq-clips 0"]}))
    skipped: dict[str, str] = {}
    stages = train_all.plan(tmp_path, Path("/srv/mocap"), Path("/srv/run"), skipped=skipped)
    assert [s.name for s in stages] == ["corpus", "landmarks_real_v1", "embroider"]
    assert stages[1].estimate_s == pytest.approx(10 * train_all.LANDMARK_S_PER_ROW)
    assert "real_v9" in skipped["lifter"] and "data_commands" in skipped["lifter"]
    (tmp_path / "odd.json").write_text(json.dumps({"command": "x", "data_commands": ["python main.py data build"]}))
    with pytest.raises(ValueError, match="data landmarks"):
        train_all.plan(tmp_path, Path("/srv/mocap"), Path("/srv/run"))


def test_extra_landmark_datasets_are_needs_too(tmp_path):
    """``train lifter --landmarks A --extra-landmarks B,C`` needs the stages of A, B and C; one nobody builds is
    reported like a missing --landmarks dataset."""
    assert train_all.landmark_needs([["train", "lifter", "--landmarks", "a", "--extra-landmarks", "b, c"]]) == (
        "landmarks_a", "landmarks_b", "landmarks_c")
    (tmp_path / "lifter.json").write_text(json.dumps({
        "command": "python main.py train lifter --landmarks real_v1 --extra-landmarks real_v2x",
        "data_commands": ["python main.py data landmarks --name real_v1 --n-still 10 --n-seq-clips 0"]}))
    skipped: dict[str, str] = {}
    stages = train_all.plan(tmp_path, Path("/srv/mocap"), Path("/srv/run"), skipped=skipped)
    assert [s.name for s in stages] == ["corpus", "landmarks_real_v1"] and "real_v2x" in skipped["lifter"]


def test_lifter_and_embroider_chains_update_one_weights_folder():
    """The lifter's real-landmark steps start from a variant an earlier step merged into lifter.pt (``--init
    VARIANT``) and the PoseEmbroider's ``--landmarks`` step fine-tunes the embroider.pt in its --out-dir: every
    command of those chains must write to the run's weights folder (a work folder per step left the next step
    without the variant / the embroider it continues from)."""
    run = Path("/srv/run")
    stages = {s.name: s for s in train_all.plan(ROOT / "resources" / "weights", Path("/srv/mocap"), run)}
    for model in ("lifter", "embroider"):
        cmds = stages[model].commands
        assert len(cmds) >= 2
        for argv in cmds:
            assert argv[argv.index("--out-dir") + 1] == str(run / "weights"), argv
            assert "--init-dir" not in argv
    assert any("--init" in argv for argv in stages["lifter"].commands)
    # a model that does not update in place keeps a work folder per step
    assert str(run / "work" / "editor_0") in stages["editor"].commands[0]


def test_steps_that_only_make_a_dropped_variant_are_not_replayed():
    """real-v4_T1 was trained, then dropped from the shipped lifter.pt, and nothing starts from it: the plan skips
    that 55-minute step and takes it off the estimate; dropped variants a later step starts from are rebuilt."""
    man = json.loads((ROOT / "resources" / "weights" / "lifter.json").read_text())
    chain = train_all.manifest_commands(man)
    kept, saved = train_all.prune_dropped(chain, man)
    tags = [a[a.index("--tag") + 1] if "--tag" in a else None for a in kept if "--landmarks" in a]
    assert "v4" not in tags and {"synthpre", "p2", None, "v2", "v3", "v5", "v6", "v7"} <= set(tags)
    assert len(kept) == len(chain) - 1 and saved == 55 * 60
    stages = {s.name: s for s in train_all.plan(ROOT / "resources" / "weights", Path("/srv/mocap"), Path("/srv/r"))}
    # …and the variants the kept steps still make but the shipped file dropped are removed at the end
    assert len(stages["lifter"].commands) == len(kept) + 1
    assert stages["lifter"].commands[-1] == ["train", "lifter", "--drop-variants",
                                             "real-v2_T1,real-v5_T1,real-v6_T1,real_T1", "--out-dir", "/srv/r/weights"]
    assert stages["lifter"].estimate_s == pytest.approx(float(man["train_seconds"]) - saved)
    # a dropped variant that a later step continues from stays
    fake = {"dropped_variants": ["real-a_T1", "real-b_T1"]}
    steps = [["train", "lifter", "--landmarks", "x", "--tag", t, *extra]
             for t, extra in (("a", []), ("b", ["--init", "real-a_T1"]), ("c", ["--pair-with", "real-a_T1"]))]
    kept, saved = train_all.prune_dropped(steps, fake)
    assert [a[5] for a in kept] == ["a", "c"] and saved == 0.0
