"""A translucent second body in the scene: the coach's target pose as a "ghost" over the live body.

``GhostBody`` reuses the :class:`~core_models.render.scene.SceneRenderer`'s body mesh (its vertex arrays and GPU
skinning shader code); only its own 52 skin transforms go up per frame. It is drawn after the opaque body with
depth testing but without depth writes, premultiplied-alpha blended, back faces culled, with a view-dependent
opacity (faint where the surface faces the camera, stronger at the silhouette), so the live body stays readable
inside it and the ghost's outline shows where the pose should go. Hook it up with ``scene.ghost = GhostBody()``;
``set_pose(skinning, pose)`` (numpy FK, no GL) whenever the target changes, ``visible`` to hide it.
No Qt; needs a current GL 3.3 core context only when drawn.
"""
from __future__ import annotations

import numpy as np
from OpenGL import GL

from core_models.pose import Pose
from core_models.render import shaders

NJ = 22
NJ_SKIN = 52
_WRIST_OF_HAND = np.array([20] * 15 + [21] * 15)

GHOST_FS = """#version 330 core
in vec3 v_pos;
in vec3 v_nrm;
in vec4 v_tint;
uniform vec3 u_eye;
uniform vec3 u_view_dir;
uniform int u_ortho;
uniform vec4 u_color;      // sRGB colour + base opacity
out vec4 frag;
void main() {
    vec3 n = normalize(v_nrm);
    vec3 V = (u_ortho == 1) ? -u_view_dir : normalize(u_eye - v_pos);
    float edge = 1.0 - abs(dot(n, V));
    float a = u_color.a * (0.45 + 0.55 * edge * edge);
    frag = vec4(u_color.rgb * a, a);   // premultiplied
}
"""


class GhostBody:
    """See the module docstring. ``color`` is sRGB 0..1, ``alpha`` the base opacity."""

    def __init__(self, color: tuple[float, float, float] = (0.72, 0.84, 1.0), alpha: float = 0.42):
        self.color = tuple(float(c) for c in color)
        self.alpha = float(alpha)
        self.visible = True
        self.pose: Pose | None = None
        self._skin = np.zeros((NJ_SKIN * 3, 4), np.float32)
        self._skin.reshape(NJ_SKIN, 3, 4)[:, :, :3] = np.eye(3, dtype=np.float32)
        self._tint = np.zeros((NJ, 4), np.float32)
        self.joints = np.zeros((NJ, 3), np.float32)
        self._program: int | None = None
        self._owner: int | None = None  # id() of the scene whose context holds the program
        self._locs: dict[str, int] = {}

    def set_state(self, skin: np.ndarray, joints: np.ndarray) -> None:
        """Skin transforms (22,3,4) or (52,3,4) and joints (22,3), as :meth:`SceneRenderer.set_state` takes."""
        s = self._skin.reshape(NJ_SKIN, 3, 4)
        if len(skin) == NJ_SKIN:
            s[...] = skin
        else:
            s[:NJ] = skin
            s[NJ:] = s[_WRIST_OF_HAND]
        self.joints[...] = joints

    def set_pose(self, skinning, pose: Pose) -> None:
        """Pose the ghost on ``skinning`` (the same body data as the scene's mesh)."""
        from core_models.render.scene import pose_state

        skin, joints, _ = pose_state(skinning, pose)
        self.pose = pose.copy()
        self.set_state(skin, joints)

    # --- GL ------------------------------------------------------------------------------------------------------
    def _ensure_program(self, scene) -> int:
        if self._program is None or self._owner != id(scene):
            from core_models.render.scene import _compile

            self._program = _compile(shaders.BODY_VS, GHOST_FS)
            self._owner = id(scene)
            self._locs = {}
        return self._program

    def _loc(self, name: str) -> int:
        loc = self._locs.get(name)
        if loc is None:
            loc = self._locs[name] = GL.glGetUniformLocation(self._program, name)
        return loc

    def draw(self, scene, camera, vp: np.ndarray, eye: np.ndarray, fwd: np.ndarray) -> None:
        """Draw into the bound framebuffer with ``scene``'s body mesh (called by the scene after the body)."""
        if not self.visible or not getattr(scene, "_has_mesh", False):
            return
        GL.glUseProgram(self._ensure_program(scene))
        GL.glUniformMatrix4fv(self._loc("u_vp"), 1, GL.GL_TRUE, vp)
        GL.glUniform4fv(self._loc("u_skin"), NJ_SKIN * 3, self._skin)
        GL.glUniform4fv(self._loc("u_tint"), NJ, self._tint)
        GL.glUniform3f(self._loc("u_eye"), *eye)
        GL.glUniform3f(self._loc("u_view_dir"), *fwd)
        GL.glUniform1i(self._loc("u_ortho"), int(camera.ortho))
        GL.glUniform4f(self._loc("u_color"), *self.color, self.alpha)
        GL.glEnable(GL.GL_BLEND)
        GL.glBlendFunc(GL.GL_ONE, GL.GL_ONE_MINUS_SRC_ALPHA)
        GL.glDepthMask(GL.GL_FALSE)
        GL.glEnable(GL.GL_CULL_FACE)
        GL.glCullFace(GL.GL_BACK)
        GL.glFrontFace(GL.GL_CCW)
        GL.glBindVertexArray(scene.vao_body)
        GL.glDrawElements(GL.GL_TRIANGLES, scene._n_indices, GL.GL_UNSIGNED_INT, None)
        GL.glDisable(GL.GL_CULL_FACE)
        GL.glDepthMask(GL.GL_TRUE)
        GL.glDisable(GL.GL_BLEND)

    def release(self) -> None:
        """Free the program (call with its context current)."""
        if self._program is not None:
            try:
                GL.glDeleteProgram(self._program)
            except Exception:  # noqa: BLE001 - the context may already be gone
                pass
        self._program, self._owner, self._locs = None, None, {}
