"""README figure: real photos (opencv-doc) with MediaPipe landmarks next to the pose recovered by the learned
capture regressor (lifter → PoseEmbroider → SMPL-H head), rendered on the Anny body from the camera's side.
Writes docs/capture/real_photos.png and prints one JSON line. ``.venv/bin/python tools/figure_capture_photos.py``"""
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    import cv2
    import torch

    torch.set_num_threads(1)
    from core_models.body import load_body
    from core_models.capture.landmarks import CONNECTIONS, LandmarkDetector
    from core_models.capture.regressor import LearnedRegressor
    from core_models.render.offscreen import render_pose_image

    reg = LearnedRegressor()
    body = load_body("anny")
    data = Path("/usr/share/doc/opencv-doc/examples/data")
    rows, info = [], {}
    H = 360
    with LandmarkDetector("full", mode="image") as det:
        for name, text in (("basketball1.png", None), ("messi5.jpg", None),
                           ("messi5.jpg", "the right knee is bent, the left leg is stretched out to the side and "
                                          "the arms are spread wide")):
            bgr = cv2.imread(str(data / name))
            lm = det.detect(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            if lm is None:
                continue
            px = lm.pixels()
            for a, b in CONNECTIONS:
                cv2.line(bgr, tuple(int(v) for v in px[a]), tuple(int(v) for v in px[b]), (0, 255, 0), 2)
            reg.reset()
            pose, conf = reg.predict(lm, text)
            img = render_pose_image(body, pose, size=(H, H), view="front")
            photo = cv2.resize(bgr, (int(bgr.shape[1] * H / bgr.shape[0]), H))
            tile = np.concatenate([photo, cv2.cvtColor(img, cv2.COLOR_RGB2BGR)], 1)
            label = name + (f'  + text: "{text}"' if text else "")
            cv2.putText(tile, label[:90], (8, H - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 255), 1)
            rows.append(tile)
            info[label] = round(conf, 3)
    W = max(r.shape[1] for r in rows)
    sheet = np.concatenate([np.pad(r, ((0, 0), (0, W - r.shape[1]), (0, 0)), constant_values=255) for r in rows], 0)
    out = ROOT / "docs" / "capture" / "real_photos.png"
    cv2.imwrite(str(out), sheet)
    print(json.dumps({"name": "capture_photo_figure", "value": len(rows), "unit": "photos", "out": str(out),
                      "confidence": info}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
