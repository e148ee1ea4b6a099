"""Dock panels. Feature panels (learned tools) register here and MainWindow adds them as docks.

Each entry: (module, class name, dock title, dock object name, area 'left' | 'right').
The class is constructed as ``cls(ctx)`` with an :class:`app.context.PanelContext` (never the main window):
``ctx.document`` (Document: ``pose()``, ``push_pose(new, text)`` — undoable), ``ctx.viewport``
(:class:`app.context.ViewportProtocol`: ``set_joint_colors``...), ``ctx.services`` (the lazy, shared model
services), ``ctx.status`` (``showMessage``), ``ctx.library`` (``reload``). A panel whose import or
construction fails is replaced by a message label: a missing model never stops the app.
"""

FEATURE_PANELS: list[tuple[str, str, str, str, str]] = [
    ("app.panels.capture", "CapturePanel", "Capture", "dock_capture", "left"),
    ("app.panels.text_edit", "TextEditPanel", "Text Edit", "dock_text_edit", "right"),
    ("app.panels.latent", "LatentPanel", "Latent", "dock_latent", "right"),
    ("app.panels.correction", "CorrectionPanel", "Correction", "dock_correction", "left"),
    ("app.panels.reference", "ReferencePanel", "Reference", "dock_reference", "left"),
    ("app.panels.hands", "HandsPanel", "Hands", "dock_hands", "right"),
    ("app.panels.coach", "CoachPanel", "Coach", "dock_coach", "left"),
]
