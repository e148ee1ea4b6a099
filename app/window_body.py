"""The main window's body model side (a mixin of :class:`app.main_window.MainWindow`): build the body in a
worker (a progress dialog only for a slow first Anny build), coalesce rebuild requests, switch backend, fall
back to the built-in body when SMPL-H cannot be loaded (the pose is untouched)."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from app.viewport.fallback import FallbackViewport
from app.workers import busy_dialog, run_in_background

if TYPE_CHECKING:
    from app.main_window import MainWindow

    _Base = MainWindow
else:
    _Base = object


def anny_cached(phenotype: dict | None) -> bool:
    """Is the Anny SMPL-H layer for ``phenotype`` already in the on-disk cache (a fast load)?"""
    try:
        from core_models.body import anny_body as ab

        ph = dict(ab.DEFAULT_PHENOTYPE)
        ph.update(phenotype or {})
        return (ab._cache_dir() / f"anny_smplh_{ab._cache_key(ph)}.npz").exists()
    except Exception:  # noqa: BLE001 - unknown means "not cached": the slow path shows a progress dialog
        return False


def build_body(backend: str, phenotype: dict | None, smplh_path: str | None):
    """Worker: create the body model."""
    from core_models.body import load_body

    if backend == "smplh":
        if not smplh_path:
            raise RuntimeError("The SMPL-H backend needs the path of your official SMPL-H model file "
                               "(Body panel → SMPL-H model…).")
        return load_body("smplh", model_path=smplh_path)
    return load_body("anny", phenotype=dict(phenotype or {}))


class BodyLoaderMixin(_Base):
    def load_body(self, phenotype: dict | None = None) -> None:
        """(Re)build the body in a worker; a modal progress dialog only when a slow first build is needed."""
        if self._injected_body is not None:
            body, self._injected_body = self._injected_body, None
            self._on_body_ready(body)
            return
        ph = dict(phenotype if phenotype is not None else self.doc.phenotype)
        if self._body_job is not None:
            self._body_pending = ph  # coalesce: build the latest request when the current one ends
            return
        backend = self.doc.session.body_backend
        first = self.body is None
        if first and backend == "anny" and not anny_cached(ph):
            self._body_dialog = busy_dialog(self, "Preparing the body model",
                                            "Building the Anny body model for the first time.\n"
                                            "This takes about a minute once; later starts are instant.")
            self._body_dialog.show()
        self.body_panel.set_busy(True, "Rebuilding the body…" if not first else "Loading the body model…")
        self.lbl_backend.setText(f"Body: {backend} (loading…)")
        self._body_job = run_in_background(build_body, backend, ph, self.settings.get("smplh_model_path"),
                                           on_result=self._on_body_ready, on_error=self._on_body_error,
                                           on_finished=self._on_body_finished)

    def set_backend(self, name: str, choose_file: bool = False) -> bool:
        """Switch the body backend ("anny" | "smplh"); SMPL-H asks for the model file when needed."""
        if name == "smplh":
            path = self.settings.get("smplh_model_path")
            if choose_file or not path or not Path(path).is_file():
                start = str(Path(path).parent) if path else str(Path.home())
                path = self.dialogs.open_smplh(self, start)
                if not path:
                    self.body_panel.set_backend(self.doc.session.body_backend)
                    return False
            self.settings["smplh_model_path"] = str(path)
        elif name != "anny":
            return False
        self.doc.session.body_backend = name
        self.settings["body_backend"] = name
        self._save_settings()
        self.body_panel.set_backend(name)
        self.load_body()
        return True

    def _on_body_ready(self, body) -> None:
        self.body = body
        self.viewport.set_body(body)
        self.viewport.set_pose(self.doc.pose())
        self.lbl_backend.setText(f"Body: {getattr(body, 'name', 'body')}")
        if not isinstance(self.viewport, FallbackViewport):
            self.library.set_body(body)  # rendered thumbnails (off the GUI thread)
        self.body_panel.set_busy(False, "")
        self.bodyReady.emit(body)

    def _on_body_error(self, e: BaseException) -> None:
        backend = self.doc.session.body_backend
        self.body_panel.set_busy(False, f"Could not build the body: {e}")
        self.lbl_backend.setText(f"Body: {getattr(self.body, 'name', 'unavailable')}")
        self.dialogs.error(self, "Body model", f"The {backend} body model could not be loaded:\n{e}")
        if backend == "smplh":  # fall back to the built-in body; the pose is untouched
            self.doc.session.body_backend = "anny"
            self.settings["body_backend"] = "anny"
            self._save_settings()
            self.body_panel.set_backend("anny")
            if getattr(self.body, "name", None) != "anny":
                self._body_pending = dict(self.doc.phenotype)

    def _on_body_finished(self) -> None:
        self._body_job = None
        if self._body_dialog is not None:
            self._body_dialog.close()
            self._body_dialog.deleteLater()
            self._body_dialog = None
        if self._body_pending is not None:
            ph, self._body_pending = self._body_pending, None
            cur = getattr(self.body, "phenotype", None)
            if cur is None or getattr(self.body, "name", "") != self.doc.session.body_backend \
                    or any(abs(cur.get(k, 0.5) - v) > 1e-6 for k, v in ph.items()):
                self.load_body(ph)
