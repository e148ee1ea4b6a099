"""GLSL 3.30 core sources for the PoseTailor scene (body with GPU skinning, floor grid + contact shadow,
background gradient, joint markers, rotation gizmo)."""

BACKGROUND_VS = """#version 330 core
uniform vec3 u_top;
uniform vec3 u_bottom;
out vec3 v_col;
void main() {
    // a full-screen quad as a 4-vertex strip; the gradient is interpolated per vertex (cheap on llvmpipe)
    vec2 p = vec2(((gl_VertexID & 1) == 1) ? 1.0 : -1.0, ((gl_VertexID & 2) == 2) ? 1.0 : -1.0);
    v_col = (p.y > 0.0) ? u_top : u_bottom;
    gl_Position = vec4(p, 0.999, 1.0);
}
"""

BACKGROUND_FS = """#version 330 core
in vec3 v_col;
out vec4 frag;
void main() { frag = vec4(v_col, 1.0); }
"""

# --- body: linear blend skinning on the GPU --------------------------------------------------------------
#: Influences per vertex in the shader (two ivec4/vec4 attribute pairs). The exporters and the CPU skinning use
#: every non-zero weight; Anny has at most 7 per vertex and SMPL-H at most 4 (also over the 52 joints with the
#: finger bones), so the viewport is exact for both.
SKIN_INFLUENCES = 8

_SKIN_GLSL = """
layout(location = 0) in vec3 a_pos;
layout(location = 1) in vec3 a_nrm;
layout(location = 2) in ivec4 a_widx0;
layout(location = 3) in vec4 a_wval0;
layout(location = 4) in ivec4 a_widx1;
layout(location = 5) in vec4 a_wval1;
uniform mat4 u_vp;
uniform vec4 u_skin[156];  // 52 joints (22 body + 30 finger) x 3 rows of the (3x4) rest->posed transform
uniform vec4 u_tint[22];   // premultiplied per-joint tint (rgb*a, a); finger joints take their wrist's
void skin(out vec3 wp, out vec3 wn, out vec4 tint) {
    vec4 r0 = vec4(0.0), r1 = vec4(0.0), r2 = vec4(0.0);
    tint = vec4(0.0);
    for (int k = 0; k < 8; ++k) {
        int j = (k < 4) ? a_widx0[k] : a_widx1[k - 4];
        float w = (k < 4) ? a_wval0[k] : a_wval1[k - 4];
        r0 += w * u_skin[3 * j];
        r1 += w * u_skin[3 * j + 1];
        r2 += w * u_skin[3 * j + 2];
        tint += w * u_tint[j < 22 ? j : (j < 37 ? 20 : 21)];
    }
    vec4 p = vec4(a_pos, 1.0);
    wp = vec3(dot(r0, p), dot(r1, p), dot(r2, p));
    wn = vec3(dot(r0.xyz, a_nrm), dot(r1.xyz, a_nrm), dot(r2.xyz, a_nrm));
}
"""

_SHADE_GLSL = """
uniform vec3 u_eye;
uniform vec3 u_view_dir;   // camera forward (used for orthographic views)
uniform int u_ortho;
uniform vec3 u_albedo;     // linear
uniform vec3 u_sky;
uniform vec3 u_ground;
uniform vec3 u_key_dir;    // towards the light, world space
uniform vec3 u_key_col;
uniform vec3 u_fill_dir;
uniform vec3 u_fill_col;
uniform vec3 u_rim_col;
uniform float u_floor_y;
vec3 shade(vec3 pos, vec3 nrm, vec4 tint) {
    vec3 n = normalize(nrm);
    vec3 V = (u_ortho == 1) ? -u_view_dir : normalize(u_eye - pos);
    float nv = dot(n, V);
    if (nv < 0.0) { n = normalize(n - 1.01 * nv * V); nv = dot(n, V); }  // silhouette normals facing away
    vec3 albedo = u_albedo * (1.0 - clamp(tint.a, 0.0, 1.0)) + tint.rgb;
    // hemispheric ambient with a touch of occlusion near the floor
    vec3 amb = mix(u_ground, u_sky, n.y * 0.5 + 0.5);
    float ao = mix(0.72, 1.0, smoothstep(0.0, 0.30, pos.y - u_floor_y));
    // wrapped diffuse (soft, skin-like)
    const float wrap = 0.4;
    float kd = max((dot(n, u_key_dir) + wrap) / (1.0 + wrap), 0.0);
    float fd = max((dot(n, u_fill_dir) + wrap) / (1.0 + wrap), 0.0);
    vec3 H = normalize(u_key_dir + V);
    float sh = max(dot(n, H), 0.0);
    sh *= sh; sh *= sh; sh *= sh; sh *= sh; sh *= sh;   // ^32 without pow()
    float spec = sh * 0.10;
    float rv = 1.0 - max(nv, 0.0);
    float rim = rv * rv * rv;
    vec3 c = albedo * (amb * ao + kd * u_key_col + fd * u_fill_col) + spec * u_key_col + rim * u_rim_col;
    c = c / (1.0 + 0.25 * c);                       // soft shoulder tone map
    return sqrt(max(c, vec3(0.0)));                 // ~ linear -> sRGB (gamma 2)
}
"""

# Per-pixel lighting (offscreen renders, thumbnails, hardware GL).
BODY_VS = "#version 330 core\n" + _SKIN_GLSL + """
out vec3 v_pos;
out vec3 v_nrm;
out vec4 v_tint;
void main() {
    vec3 wp, wn;
    vec4 tint;
    skin(wp, wn, tint);
    v_pos = wp;
    v_nrm = wn;
    v_tint = tint;
    gl_Position = u_vp * vec4(wp, 1.0);
}
"""

BODY_FS = "#version 330 core\n" + _SHADE_GLSL + """
in vec3 v_pos;
in vec3 v_nrm;
in vec4 v_tint;
out vec4 frag;
void main() { frag = vec4(shade(v_pos, v_nrm, v_tint), 1.0); }
"""

# Skinning only, captured with transform feedback (no rasterisation): lets a test read back exactly what the GPU
# draws and compare it with the CPU skinning.
SKIN_CAPTURE_VS = "#version 330 core\n" + _SKIN_GLSL + """
out vec3 tf_pos;
out vec3 tf_nrm;
void main() {
    vec3 wp, wn;
    vec4 tint;
    skin(wp, wn, tint);
    tf_pos = wp;
    tf_nrm = wn;
    gl_Position = u_vp * vec4(wp, 1.0);
}
"""

# Per-vertex lighting: the same model evaluated at the 13.7k vertices instead of every covered pixel
# (the mesh is dense enough that it looks the same; several times cheaper on software GL).
BODY_GOURAUD_VS = "#version 330 core\n" + _SKIN_GLSL + _SHADE_GLSL + """
out vec3 v_col;
void main() {
    vec3 wp, wn;
    vec4 tint;
    skin(wp, wn, tint);
    v_col = shade(wp, wn, tint);
    gl_Position = u_vp * vec4(wp, 1.0);
}
"""

BODY_GOURAUD_FS = """#version 330 core
in vec3 v_col;
out vec4 frag;
void main() { frag = vec4(v_col, 1.0); }
"""

# --- floor: a faded plane, grid lines as line geometry, contact-shadow blobs ---------------------------------
# (The per-pixel procedural grid and a per-pixel shadow loop were 5-10x slower on llvmpipe than this.)
FLOOR_VS = """#version 330 core
uniform mat4 u_vp;
uniform float u_floor_y;
uniform vec2 u_center;
uniform float u_half;
out vec2 v_xz;
void main() {
    vec2 c = vec2(((gl_VertexID & 1) == 1) ? 1.0 : -1.0, ((gl_VertexID & 2) == 2) ? 1.0 : -1.0);
    v_xz = c * u_half;
    gl_Position = u_vp * vec4(u_center.x + v_xz.x, u_floor_y, u_center.y + v_xz.y, 1.0);
}
"""

FLOOR_FS = """#version 330 core
in vec2 v_xz;
uniform float u_fade;
uniform vec4 u_floor_col;
out vec4 frag;
void main() {
    float r2 = dot(v_xz, v_xz) / (u_fade * u_fade);
    float a = u_floor_col.a * max(1.0 - r2, 0.0);
    frag = vec4(u_floor_col.rgb * a, a);   // premultiplied
}
"""

GRID_VS = """#version 330 core
layout(location = 0) in vec3 a_line;   // x, z from the snapped grid centre; kind (0 minor, 1 major, 2/3 x/z axis)
uniform mat4 u_vp;
uniform float u_floor_y;
uniform vec2 u_snap;        // grid centre snapped to whole metres
uniform vec2 u_center;      // body centre (fade origin)
uniform float u_fade;
uniform vec4 u_col[4];
out vec4 v_col;
void main() {
    int kind = int(a_line.z + 0.5);
    vec2 xz = a_line.xy + u_snap;
    if (kind == 2) xz.y = a_line.y;        // the world x axis (z = 0)
    if (kind == 3) xz.x = a_line.x;        // the world z axis (x = 0)
    vec2 d = xz - u_center;
    float fr = (kind == 0) ? 0.6 * u_fade : u_fade;   // minor lines fade out sooner (no moire far away)
    float f = 1.0 - smoothstep(fr * 0.3, fr, length(d));
    vec4 c = u_col[kind];
    v_col = vec4(c.rgb * c.a * f, c.a * f);   // premultiplied
    gl_Position = u_vp * vec4(xz.x, u_floor_y, xz.y, 1.0);
}
"""

GRID_FS = """#version 330 core
in vec4 v_col;
out vec4 frag;
void main() { frag = v_col; }
"""

SHADOW_VS = """#version 330 core
uniform mat4 u_vp;
uniform float u_floor_y;
uniform vec4 u_pts[22];     // joint xyz, w = base blob radius
uniform float u_strength;
out vec2 v_q;
out float v_s;
void main() {
    vec4 j = u_pts[gl_InstanceID];
    float h = max(j.y - u_floor_y, 0.0);
    float rad = j.w + 0.25 * h;
    v_s = u_strength * 0.45 * exp(-2.5 * h);
    if (v_s < 0.04) rad = 0.0;                // too high above the floor to matter: skip the quad
    v_q = vec2(((gl_VertexID & 1) == 1) ? 2.0 : -2.0, ((gl_VertexID & 2) == 2) ? 2.0 : -2.0);
    gl_Position = u_vp * vec4(j.x + v_q.x * rad, u_floor_y, j.z + v_q.y * rad, 1.0);
}
"""

SHADOW_FS = """#version 330 core
in vec2 v_q;
in float v_s;
out vec4 frag;
void main() {
    float s = v_s * exp(-dot(v_q, v_q));
    frag = vec4(vec3(1.0 - s), 1.0);   // multiplied into the framebuffer (blend ZERO, SRC_COLOR)
}
"""

# --- joint markers (instanced spheres) ------------------------------------------------------------------
MARKER_VS = """#version 330 core
layout(location = 0) in vec3 a_pos;
uniform mat4 u_vp;
uniform vec4 u_joint[22];    // xyz centre, w radius (0 hides the marker)
uniform vec4 u_color[22];
out vec3 v_nrm;
out vec4 v_col;
void main() {
    vec4 j = u_joint[gl_InstanceID];
    v_nrm = a_pos;
    v_col = u_color[gl_InstanceID];
    gl_Position = u_vp * vec4(j.xyz + a_pos * j.w, 1.0);
}
"""

MARKER_FS = """#version 330 core
in vec3 v_nrm;
in vec4 v_col;
uniform vec3 u_key_dir;
uniform vec3 u_view_dir;
uniform float u_alpha;
out vec4 frag;
void main() {
    vec3 n = normalize(v_nrm);
    float d = max(dot(n, u_key_dir), 0.0);
    float rv = 1.0 - max(dot(n, -u_view_dir), 0.0);
    float rim = rv * rv;
    vec3 c = v_col.rgb * (0.50 + 0.55 * d) + 0.25 * rim;
    frag = vec4(c * u_alpha, u_alpha);   // premultiplied
}
"""

# --- rotation gizmo: three tori around world axes --------------------------------------------------------
GIZMO_VS = """#version 330 core
layout(location = 0) in vec4 a_uv;    // x: angle around the ring, y: angle around the tube
uniform mat4 u_vp;
uniform vec3 u_center;
uniform float u_R;
uniform float u_r;
out vec3 v_pos;
out vec3 v_nrm;
out vec3 v_rd;
flat out int v_axis;
void main() {
    int axis = gl_InstanceID;
    vec3 e0 = vec3(0.0), e1 = vec3(0.0), e2 = vec3(0.0);   // ring plane (e1, e2), axis e0
    e0[axis] = 1.0;
    e1[(axis + 1) % 3] = 1.0;
    e2[(axis + 2) % 3] = 1.0;
    float cu = cos(a_uv.x), su = sin(a_uv.x), cv = cos(a_uv.y), sv = sin(a_uv.y);
    vec3 rd = cu * e1 + su * e2;
    vec3 p = u_center + rd * (u_R + u_r * cv) + e0 * (u_r * sv);
    v_pos = p;
    v_nrm = rd * cv + e0 * sv;
    v_rd = rd;
    v_axis = axis;
    gl_Position = u_vp * vec4(p, 1.0);
}
"""

GIZMO_FS = """#version 330 core
in vec3 v_pos;
in vec3 v_nrm;
in vec3 v_rd;
flat in int v_axis;
uniform vec3 u_center;
uniform vec3 u_to_eye;      // unit direction from the centre towards the camera
uniform vec4 u_axis_col[3];
uniform int u_active;       // axis being dragged (-1 none)
uniform int u_hover;        // axis under the cursor (-1 none)
uniform vec3 u_highlight;
out vec4 frag;
void main() {
    vec3 c = u_axis_col[v_axis].rgb;
    float a = u_axis_col[v_axis].a;
    if (v_axis == u_active || (u_active < 0 && v_axis == u_hover)) { c = u_highlight; a = 1.0; }
    else if (u_active >= 0) { a *= 0.35; }
    bool back = dot(v_rd, u_to_eye) < -0.08;   // the far half of the ring (decided on its centre line)
    if (back) { a *= 0.30; }
    vec3 n = normalize(v_nrm);
    float l = 0.65 + 0.35 * max(dot(n, u_to_eye), 0.0);
    frag = vec4(c * l * a, a);   // premultiplied
}
"""
