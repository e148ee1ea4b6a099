"""Webcam capture (no Qt): frame sources, MediaPipe BlazePose landmarks (offline ``.task`` bundles), temporal
filters, and the live pipeline frame → landmarks → pose regressor → :class:`~core_models.pose.Pose`.

Modules: :mod:`.sources` (camera / video file / image folder), :mod:`.landmarks` (``LandmarkDetector``,
``Landmarks``), :mod:`.filters` (One-Euro, gating), :mod:`.geometric` (weight-free landmarks → pose solver),
:mod:`.pipeline` (``CapturePipeline``, the ``PoseRegressor`` protocol), :mod:`.model_bundles` (set-up time
builder of the ``.task`` files). Heavy imports (mediapipe, cv2) happen only when a detector/source is used.
"""
from core_models.capture.landmarks import (LANDMARK_NAMES, LM, NUM_LANDMARKS, LandmarkDetector, LandmarkerError,
                                           Landmarks, available_variants, model_dir)
from core_models.capture.pipeline import (CapturePipeline, CaptureResult, GeometricRegressor, PoseRegressor,
                                          make_regressor, register_regressor, run_source)
from core_models.capture.sources import (CameraSource, Frame, FrameSource, ImageFolderSource, VideoFileSource,
                                         open_source)

__all__ = [
    "LANDMARK_NAMES", "LM", "NUM_LANDMARKS", "LandmarkDetector", "LandmarkerError", "Landmarks",
    "available_variants", "model_dir", "CapturePipeline", "CaptureResult", "GeometricRegressor",
    "PoseRegressor", "make_regressor", "register_regressor", "run_source", "CameraSource", "Frame",
    "FrameSource", "ImageFolderSource", "VideoFileSource", "open_source",
]
