"""What a dock panel may use: a small typed context instead of the main window.

``PanelContext(document, viewport, services, status, library)`` is built once by the main window and handed to
every feature panel (``cls(ctx)``). Panels edit only through ``document`` (undoable), colour joints through
``viewport`` (:class:`ViewportProtocol`), get models from ``services`` (:class:`core_models.services.ModelServices`,
lazy and shared), report through ``status`` and ask ``library`` to reload after saving a pose.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from PySide6.QtGui import QImage

    from app.commands import Document
    from core_models.pose import Pose
    from core_models.services import ModelServices


@runtime_checkable
class ViewportProtocol(Protocol):
    """The viewport API the window and the panels use (the OpenGL Viewport and the FallbackViewport both
    provide it, plus the Qt signals jointSelected(int), poseDragged(object), poseEditFinished(object, object,
    str) and fpsChanged(float))."""

    def set_body(self, body: Any) -> None: ...

    def set_pose(self, pose: Pose) -> None: ...

    def set_selected_joint(self, j: int) -> None: ...

    def set_joint_colors(self, colors: dict[int, tuple[float, float, float]]) -> None: ...

    def set_limits_enabled(self, on: bool) -> None: ...

    def set_show_inset(self, on: bool) -> None: ...

    def reset_camera(self) -> None: ...

    def set_theme(self, name: str) -> None: ...

    def grab_image(self) -> QImage: ...


class StatusSink(Protocol):
    """Where a panel reports one-line messages (the window's status bar)."""

    def showMessage(self, text: str, timeout: int = 0) -> None: ...  # noqa: N802 - QStatusBar's name


class LibrarySink(Protocol):
    """The library dock, as far as panels are concerned: reload after a pose was saved."""

    def reload(self) -> None: ...


class _NoStatus:
    def showMessage(self, text: str, timeout: int = 0) -> None:  # noqa: N802
        pass


class _NoLibrary:
    def reload(self) -> None:
        pass


class _NoViewport:
    """A viewport that ignores everything (headless panel tests)."""

    def set_body(self, body: Any) -> None:
        pass

    def set_pose(self, pose: Pose) -> None:
        pass

    def set_selected_joint(self, j: int) -> None:
        pass

    def set_joint_colors(self, colors: dict[int, tuple[float, float, float]]) -> None:
        pass

    def set_limits_enabled(self, on: bool) -> None:
        pass

    def set_show_inset(self, on: bool) -> None:
        pass

    def reset_camera(self) -> None:
        pass

    def set_theme(self, name: str) -> None:
        pass

    def grab_image(self) -> QImage:
        from PySide6.QtGui import QImage

        return QImage()


@dataclass
class PanelContext:
    document: Document
    viewport: ViewportProtocol
    services: ModelServices
    status: StatusSink
    library: LibrarySink

    @classmethod
    def for_document(cls, document: Document, *, viewport: ViewportProtocol | None = None,
                     services: ModelServices | None = None, status: StatusSink | None = None,
                     library: LibrarySink | None = None) -> PanelContext:
        """A context around ``document``; what is not given is a no-op (and the process-wide services)."""
        from core_models.services import default_services

        return cls(document, viewport if viewport is not None else _NoViewport(),
                   services if services is not None else default_services(),
                   status if status is not None else _NoStatus(), library if library is not None else _NoLibrary())
