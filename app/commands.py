"""The undoable document: ``Document`` (a Qt wrapper around core_models.session.Session) and the
QUndoCommand subclasses through which *every* change to it goes.

Views never mutate the session directly: they call ``Document.push_pose(new, text, merge_key)`` (or push
one of the commands below); undo/redo then call back into the document's ``_apply_*`` methods, which emit
the change signals the views listen to.
"""
from __future__ import annotations

from typing import Any, Hashable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from core_models.pose import Pose
from core_models.session import Keyframe, Session, poses_equal

POSE_MERGE_ID = 4201


class Document(QObject):
    """The open session + its undo stack. Signals carry the new state."""

    poseChanged = Signal(object)  # Pose
    keyframesChanged = Signal()
    phenotypeChanged = Signal(object)  # dict
    pathChanged = Signal(str)
    dirtyChanged = Signal(bool)
    edited = Signal()  # any change of the document's content (autosave listens)

    def __init__(self, session: Session | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.session = session or Session()
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(500)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self._forced_dirty = bool(self.session.dirty)

    # --- read access
    def pose(self) -> Pose:
        return self.session.pose.copy()

    @property
    def keyframes(self) -> list[Keyframe]:
        return list(self.session.keyframes)

    @property
    def phenotype(self) -> dict[str, float]:
        return dict(self.session.phenotype)

    @property
    def path(self) -> str | None:
        return self.session.path

    def is_dirty(self) -> bool:
        return self._forced_dirty or not self.undo_stack.isClean()

    # --- edits (undoable)
    def push_pose(self, new: Pose, text: str, merge_key: Hashable | None = None) -> bool:
        """Push a SetPoseCommand from the current pose to ``new``. Returns False when nothing changes."""
        old = self.session.pose
        if poses_equal(old, new):
            return False
        self.undo_stack.push(SetPoseCommand(self, old, new, text, merge_key))
        return True

    def push_pose_change(self, old: Pose, new: Pose, text: str) -> bool:
        """For edits whose preview already moved the view (viewport gizmo drags): old → new in one step."""
        if poses_equal(old, new):
            self._apply_pose(new)  # make sure everyone shows the committed pose
            return False
        self.undo_stack.push(SetPoseCommand(self, old, new, text))
        return True

    def add_keyframe(self, name: str | None = None, pose: Pose | None = None) -> None:
        self.undo_stack.push(AddKeyframeCommand(self, name or self.session.next_keyframe_name(),
                                                pose if pose is not None else self.session.pose))

    def remove_keyframe(self, index: int) -> None:
        if 0 <= index < len(self.session.keyframes):
            self.undo_stack.push(RemoveKeyframeCommand(self, index))

    def move_keyframe(self, src: int, dst: int) -> bool:
        """Reorder: the keyframe at ``src`` goes to index ``dst`` (one undoable step)."""
        n = len(self.session.keyframes)
        if not (0 <= src < n and 0 <= dst < n) or src == dst:
            return False
        self.undo_stack.push(MoveKeyframeCommand(self, src, dst))
        return True

    def rename_keyframe(self, index: int, name: str) -> bool:
        name = name.strip()
        if not (0 <= index < len(self.session.keyframes)) or not name or self.session.keyframes[index].name == name:
            return False
        self.undo_stack.push(RenameKeyframeCommand(self, index, name))
        return True

    def set_phenotype(self, phenotype: dict[str, float]) -> bool:
        new = dict(self.session.phenotype)
        new.update(phenotype)
        if new == self.session.phenotype:
            return False
        self.undo_stack.push(PhenotypeCommand(self, self.session.phenotype, new))
        return True

    # --- whole-document operations (not undoable themselves; they reset or mark the stack)
    def replace_session(self, session: Session) -> None:
        """Load another session (a file was opened): clears the undo history."""
        self.undo_stack.clear()
        self.session = session
        self._forced_dirty = bool(session.dirty)
        self.undo_stack.setClean()
        self.poseChanged.emit(self.pose())
        self.keyframesChanged.emit()
        self.phenotypeChanged.emit(self.phenotype)
        self.pathChanged.emit(session.path or "")
        self.dirtyChanged.emit(self.is_dirty())

    def mark_saved(self, path: str | None) -> None:
        self.session.mark_saved(path)
        self._forced_dirty = False
        self.undo_stack.setClean()
        self.pathChanged.emit(self.session.path or "")
        self.dirtyChanged.emit(False)

    def mark_dirty(self) -> None:
        self._forced_dirty = True
        self.session.dirty = True
        self.dirtyChanged.emit(True)

    # --- called by the commands
    def _apply_pose(self, pose: Pose) -> None:
        self.session.set_pose(pose)
        self.poseChanged.emit(self.pose())
        self.edited.emit()

    def _insert_keyframe(self, index: int, kf: Keyframe) -> None:
        self.session.add_keyframe(kf.name, kf.pose, index)
        self.keyframesChanged.emit()
        self.edited.emit()

    def _remove_keyframe(self, index: int) -> Keyframe:
        kf = self.session.remove_keyframe(index)
        self.keyframesChanged.emit()
        self.edited.emit()
        return kf

    def _apply_phenotype(self, ph: dict[str, float]) -> None:
        self.session.set_phenotype(ph)
        self.phenotypeChanged.emit(self.phenotype)
        self.edited.emit()

    def _on_clean_changed(self, clean: bool) -> None:
        self.session.dirty = self.is_dirty()
        self.dirtyChanged.emit(self.is_dirty())


class SetPoseCommand(QUndoCommand):
    """old → new. Consecutive commands with the same non-None ``merge_key`` merge into one undo step
    (a slider drag pushes one command per value; the stack keeps one)."""

    def __init__(self, doc: Document, old: Pose, new: Pose, text: str, merge_key: Hashable | None = None):
        super().__init__(text)
        self.doc = doc
        self.old = old.copy()
        self.new = new.copy()
        self.merge_key = merge_key

    def id(self) -> int:  # noqa: A003 - Qt API
        return POSE_MERGE_ID if self.merge_key is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt API
        if not isinstance(other, SetPoseCommand) or other.merge_key is None or other.merge_key != self.merge_key:
            return False
        self.new = other.new.copy()
        if poses_equal(self.old, self.new):
            self.setObsolete(True)  # dragged back to where it started: no undo step
        return True

    def redo(self) -> None:
        self.doc._apply_pose(self.new)

    def undo(self) -> None:
        self.doc._apply_pose(self.old)


class AddKeyframeCommand(QUndoCommand):
    def __init__(self, doc: Document, name: str, pose: Pose, index: int | None = None):
        super().__init__(f"Add keyframe '{name}'")
        self.doc = doc
        self.kf = Keyframe(name, pose.copy())
        self.index = len(doc.session.keyframes) if index is None else index

    def redo(self) -> None:
        self.doc._insert_keyframe(self.index, self.kf)

    def undo(self) -> None:
        self.doc._remove_keyframe(self.index)


class RemoveKeyframeCommand(QUndoCommand):
    def __init__(self, doc: Document, index: int):
        self.kf = doc.session.keyframes[index]
        super().__init__(f"Remove keyframe '{self.kf.name}'")
        self.doc = doc
        self.index = index

    def redo(self) -> None:
        self.kf = self.doc._remove_keyframe(self.index)

    def undo(self) -> None:
        self.doc._insert_keyframe(self.index, self.kf)


class MoveKeyframeCommand(QUndoCommand):
    def __init__(self, doc: Document, src: int, dst: int):
        super().__init__(f"Move keyframe '{doc.session.keyframes[src].name}'")
        self.doc, self.src, self.dst = doc, src, dst

    def _move(self, a: int, b: int) -> None:
        kf = self.doc.session.keyframes.pop(a)
        self.doc._insert_keyframe(b, kf)

    def redo(self) -> None:
        self._move(self.src, self.dst)

    def undo(self) -> None:
        self._move(self.dst, self.src)


class RenameKeyframeCommand(QUndoCommand):
    def __init__(self, doc: Document, index: int, name: str):
        self.old = doc.session.keyframes[index].name
        super().__init__(f"Rename keyframe '{self.old}' to '{name}'")
        self.doc, self.index, self.new = doc, index, name

    def _set(self, name: str) -> None:
        kf = self.doc._remove_keyframe(self.index)
        self.doc._insert_keyframe(self.index, Keyframe(name, kf.pose))

    def redo(self) -> None:
        self._set(self.new)

    def undo(self) -> None:
        self._set(self.old)


class PhenotypeCommand(QUndoCommand):
    """Body shape change (the app rebuilds the body model in a worker when the phenotype changes)."""

    def __init__(self, doc: Document, old: dict[str, Any], new: dict[str, Any]):
        changed = [k for k in new if old.get(k) != new[k]]
        super().__init__("Change body " + ", ".join(changed) if changed else "Change body")
        self.doc = doc
        self.old = dict(old)
        self.new = dict(new)

    def redo(self) -> None:
        self.doc._apply_phenotype(self.new)

    def undo(self) -> None:
        self.doc._apply_phenotype(self.old)
