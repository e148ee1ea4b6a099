"""Benchmark: what the test-time compliance pick (core_models/nets/editor/realise.py) costs per edit, 1 thread.

The same edits with ``Editor.realise`` off (the plain mean) and on (the shipped setting), interleaved in one
process so that both see the same machine load: the app path (``compose.edit_sentence``, clause by clause, 4
alternatives, what the Text Edit panel runs in its worker thread) and one ``Editor.edit`` call (mean + 8
samples, what the Correction panel's coach text goes through). Clause encodings are cached by a warm-up pass.

Ends with one JSON line {"name", "value" (median ms of an app edit with the pick), "unit", ...}.
"""
from __future__ import annotations

import json
import time

import numpy as np
import torch

torch.set_num_threads(1)

SENTENCES = ["raise your left arm a bit more", "bend yor rigth knee", "look up and turn your head to the left",
             "scoot your left foot out about six inches", "lean forward a little and keep your legs still",
             "straighten your right arm and lower your left hand", "kick your right foot forward",
             "bring your hands together", "twist your torso to the right", "lift ur left knee, bend the elbow"]
STARTS = ["A-pose", "Warrior II (Virabhadrasana II)", "Chair (Utkatasana)"]


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return 1000 * (time.perf_counter() - t)


def main() -> None:
    from core_models.library import load_builtin
    from core_models.nets.editor import load_editor
    from core_models.nets.editor.realise import DEFAULT_REALISE
    from core_models.text.compose import edit_sentence

    ed = load_editor()
    by_name = {it.name: it.pose for it in load_builtin()}
    starts = [by_name[n] for n in STARTS]
    for s in SENTENCES:  # warm-up: clause encodings cached for both settings
        edit_sentence(ed, starts[0], s, n_samples=4)
        ed.edit(starts[0], s, n_samples=8)
    times: dict[str, list[float]] = {k: [] for k in ("app_off", "app_on", "edit_off", "edit_on")}
    for pose in starts:
        for s in SENTENCES:
            for name, cfg in (("off", None), ("on", DEFAULT_REALISE)):
                ed.realise = cfg
                times[f"app_{name}"].append(_timed(lambda: edit_sentence(ed, pose, s, n_samples=4)))
                times[f"edit_{name}"].append(_timed(lambda: ed.edit(pose, s, n_samples=8)))
    med = {k: float(np.median(v)) for k, v in times.items()}
    p90 = {k: float(np.percentile(v, 90)) for k, v in times.items()}
    print(f"{len(times['app_on'])} edits each; setting {DEFAULT_REALISE}")
    for path in ("app", "edit"):
        print(f"{path:>4}: plain mean median {med[f'{path}_off']:.1f} ms (p90 {p90[f'{path}_off']:.1f}), "
              f"with the pick {med[f'{path}_on']:.1f} ms (p90 {p90[f'{path}_on']:.1f}), "
              f"x{med[f'{path}_on'] / med[f'{path}_off']:.2f}")
    print(json.dumps({"name": "editor_realise_ms", "value": round(med["app_on"], 1), "unit": "ms",
                      **{f"{k}_median_ms": round(v, 1) for k, v in med.items()},
                      **{f"{k}_p90_ms": round(v, 1) for k, v in p90.items()}}))


if __name__ == "__main__":
    main()
