"""The main window's actions and menus as one declared table, built in one loop.

Each :class:`ActionSpec` names its slot on the window (a dotted path such as ``"properties.mirror_pose"`` is
resolved from the window when the actions are built). ``kind`` "undo"/"redo" actions come from the document's
undo stack (their text follows the next command); ``kind`` "submenu" entries are filled by the window
(``window.fill_submenu(id, menu)``). Within a menu a new ``group`` starts after a separator.
:func:`shortcut_conflicts` lists key sequences bound to more than one action (a test keeps it empty: Qt fires
neither action of an ambiguous shortcut).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMenuBar

K = QKeySequence.StandardKey
Shortcut = str | QKeySequence.StandardKey | tuple[str, ...] | None


@dataclass(frozen=True)
class ActionSpec:
    id: str
    text: str
    slot: str = ""
    shortcut: Shortcut = None
    menu: str = ""
    group: int = 0
    checkable: bool = False
    tip: str = ""
    kind: Literal["action", "undo", "redo", "submenu"] = "action"


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("open", "&Open…", "open_dialog", K.Open, "&File", 0, tip="Open a pose (.npz) or a session (.json)"),
    ActionSpec("import_mocap", "&Import motion capture…", "import_mocap_dialog", "Ctrl+I", "&File", 0,
               tip="Import a BVH / ASF+AMC / CMU exp-map / DeepMimic clip: retargeted onto the body, frames become "
                   "keyframes"),
    ActionSpec("recent", "Open &Recent", menu="&File", group=0, kind="submenu"),
    ActionSpec("load_reference", "Load reference ima&ge…", "load_reference_image", None, "&File", 0,
               tip="Show a photo or drawing in the 3D view to pose against (Reference panel)"),
    ActionSpec("save", "&Save", "save", K.Save, "&File", 1, tip="Save the pose"),
    ActionSpec("save_as", "Save &As…", "save_as", K.SaveAs, "&File", 1, tip="Save under a new name"),
    ActionSpec("export", "&Export pose…", "export_pose_dialog", "Ctrl+E", "&File", 2,
               tip="Export the current pose as FBX / GLB / BVH / NPZ"),
    ActionSpec("export_anim", "Export &keyframes as animation…", "export_keyframes_dialog", "Ctrl+Shift+E", "&File", 2,
               tip="Export the keyframes as an animation"),
    ActionSpec("quit", "&Quit", "close", K.Quit, "&File", 3),
    ActionSpec("undo", "&Undo", shortcut=K.Undo, menu="&Edit", group=0, kind="undo"),
    ActionSpec("redo", "&Redo", shortcut=("Ctrl+Y", "Ctrl+Shift+Z"), menu="&Edit", group=0, kind="redo"),
    ActionSpec("mirror", "&Mirror pose (L↔R)", "properties.mirror_pose", "Ctrl+M", "&Edit", 1,
               tip="Swap the left and right sides of the pose"),
    ActionSpec("reset_joint", "Reset &joint", "properties.reset_selected_joint", "Ctrl+J", "&Edit", 1),
    ActionSpec("reset_pose", "Reset &pose", "properties.reset_pose", "Ctrl+R", "&Edit", 1,
               tip="All joints back to the T-pose"),
    ActionSpec("add_key", "Add &keyframe", "add_keyframe", "Ctrl+K", "&Edit", 2,
               tip="Store the current pose as a keyframe"),
    ActionSpec("limits", "Joint &limits", "properties.set_limits_enabled", None, "&Edit", 3, checkable=True,
               tip="Restrict rotations to anatomical ranges"),
    ActionSpec("drag_pose", "&Drag pose", "set_drag_pose", "D", "&Edit", 4, checkable=True,
               tip="Drag the hands, feet, head or pelvis in the viewport and the body follows (Shift+drag: the limb "
                   "alone; R on a handle: pin it; Esc: cancel the drag)"),
    ActionSpec("clear_pins", "Clear &pins", "clear_drag_pins", None, "&Edit", 4,
               tip="Unpin every effector pinned in drag-pose mode"),
    ActionSpec("reset_cam", "&Reset camera", "viewport.reset_camera", "Home", "&View", 0),
    ActionSpec("inset", "Side &inset view", "set_inset", "Ctrl+Shift+I", "&View", 0, checkable=True,
               tip="Show a small orthographic side view for depth"),
    ActionSpec("panels", "&Panels", menu="&View", group=1, kind="submenu"),
    ActionSpec("notice", "&Data and licence notice", "show_data_notice", menu="&Help"),
    ActionSpec("about", "&About PoseTailor", "show_about", menu="&Help"),
)


def key_sequences(shortcut: Shortcut) -> list[QKeySequence]:
    """Every key sequence a shortcut binds (a standard key may bind several on this platform)."""
    if shortcut is None:
        return []
    if isinstance(shortcut, QKeySequence.StandardKey):
        return list(QKeySequence.keyBindings(shortcut))
    if isinstance(shortcut, tuple):
        return [QKeySequence(s) for s in shortcut]
    return [QKeySequence(shortcut)]


def shortcut_conflicts(specs: tuple[ActionSpec, ...] | list[ActionSpec] = ACTIONS) -> dict[str, list[str]]:
    """{portable key text: [action ids]} for every key sequence bound to more than one action."""
    seen: dict[str, list[str]] = {}
    for spec in specs:
        for seq in key_sequences(spec.shortcut):
            key = seq.toString(QKeySequence.SequenceFormat.PortableText)
            if key:
                seen.setdefault(key, []).append(spec.id)
    return {k: ids for k, ids in seen.items() if len(ids) > 1}


def _resolve(window: Any, dotted: str) -> Any:
    obj = window
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def _make_action(window: Any, spec: ActionSpec) -> QAction:
    if spec.kind == "undo":
        a = window.doc.undo_stack.createUndoAction(window, spec.text)
    elif spec.kind == "redo":
        a = window.doc.undo_stack.createRedoAction(window, spec.text)
    else:
        a = QAction(spec.text, window)
        a.setCheckable(spec.checkable)
        slot = _resolve(window, spec.slot)
        (a.toggled if spec.checkable else a.triggered).connect(slot)
    a.setObjectName(f"act_{spec.id}")
    seqs = key_sequences(spec.shortcut)
    if seqs:
        a.setShortcuts(seqs)
    if spec.tip:
        a.setStatusTip(spec.tip)
        a.setToolTip(spec.tip)
    return a


def build_actions(window: Any, menubar: QMenuBar,
                  specs: tuple[ActionSpec, ...] | list[ActionSpec] = ACTIONS) -> dict[str, QAction | QMenu]:
    """Create every action (and submenu) of ``specs`` on ``window`` and put them in ``menubar``'s menus, in
    table order. Returns {id: QAction or QMenu}."""
    menus: dict[str, QMenu] = {}
    last_group: dict[str, int] = {}
    out: dict[str, QAction | QMenu] = {}
    for spec in specs:
        menu = None
        if spec.menu:
            if spec.menu not in menus:
                menus[spec.menu] = menubar.addMenu(spec.menu)
            menu = menus[spec.menu]
            if spec.menu in last_group and last_group[spec.menu] != spec.group:
                menu.addSeparator()
            last_group[spec.menu] = spec.group
        if spec.kind == "submenu":
            sub = menu.addMenu(spec.text) if menu is not None else QMenu(spec.text, window)
            sub.setObjectName(f"menu_{spec.id}")
            window.fill_submenu(spec.id, sub)
            out[spec.id] = sub
            continue
        action = _make_action(window, spec)
        if menu is not None:
            menu.addAction(action)
        out[spec.id] = action
    return out
