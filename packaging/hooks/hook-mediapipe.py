# PyInstaller hook for mediapipe 1.2.2 (pose landmarker through the Tasks C API): its Python wrappers load
# mediapipe/tasks/c/libmediapipe.so with ctypes from the package folder, so the library keeps its place in the
# bundle (collected as a binary into the same relative folder).
from PyInstaller.utils.hooks import collect_data_files, collect_dynamic_libs, collect_submodules

binaries = collect_dynamic_libs("mediapipe")
datas = collect_data_files("mediapipe", include_py_files=False)
hiddenimports = (collect_submodules("mediapipe.tasks.python.vision") + collect_submodules("mediapipe.tasks.python.core")
                 + collect_submodules("mediapipe.tasks.python.components") + ["mediapipe.tasks.c"])
