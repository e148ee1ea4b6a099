"""`info` and `warmup` sub-commands."""
from __future__ import annotations

import json
import platform
import time


def register(sub) -> None:
    p = sub.add_parser("info", help="versions, body backend, device")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_info)
    w = sub.add_parser("warmup", help="build the body model's one-time cache (run by the set-up script)")
    w.set_defaults(func=_warmup)


def _info(args) -> int:
    import numpy
    import torch

    info = {
        "posetailor": "0.1.0",
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "torch": torch.__version__,
        "device": "cuda" if torch.cuda.is_available() else "cpu",
        "threads": torch.get_num_threads(),
    }
    try:
        import anny

        info["anny"] = anny.__version__
    except Exception as e:  # pragma: no cover - reported, not fatal
        info["anny"] = f"unavailable ({e})"
    try:
        from core_models.settings import load_settings

        s = load_settings()
        info["body_backend"] = s.get("body_backend", "anny")
    except Exception:
        info["body_backend"] = "anny"
    try:  # version from the package metadata: core_models never imports Qt
        from importlib.metadata import version

        info["pyside6"] = version("pyside6-essentials")
    except Exception as e:
        info["pyside6"] = f"unavailable ({e})"
    if args.json:
        print(json.dumps(info))
    else:
        for k, v in info.items():
            print(f"{k:>12}: {v}")
    return 0


def _warmup(args) -> int:
    t = time.time()
    from core_models.body import load_body

    body = load_body("anny")
    print(f"[warmup] body model ready: {body.name}, {body.skinning.rest_vertices.shape[0]} vertices "
          f"({time.time() - t:.1f} s)")
    return 0
