"""GLSL 3.30 core sources for the PoseTailor scene (body with GPU skinning, floor grid + contact shadow,
background gradient, joint markers, rotation gizmo)."""

BACKGROUND_VS = """#version 330 core
out vec2 v_uv;
void main() {
    vec2 p = vec2((gl_VertexID == 1) ? 3.0 : -1.0, (gl_VertexID == 2) ? 3.0 : -1.0);
    v_uv = p * 0.5 + 0.5;
    gl_Position = vec4(p, 0.999, 1.0);
}
"""

BACKGROUND_FS = """#version 330 core
in vec2 v_uv;
uniform vec3 u_top;
uniform vec3 u_bottom;
out vec4 frag;
void main() {
    float t = smoothstep(0.0, 1.0, v_uv.y);
    vec3 c = mix(u_bottom, u_top, t);
    vec2 d = v_uv - vec2(0.5, 0.55);
    c *= 1.0 - 0.18 * dot(d, d);  // gentle vignette
    frag = vec4(c, 1.0);
}
"""

# --- body: linear blend skinning on the GPU --------------------------------------------------------------
BODY_VS = """#version 330 core
layout(location = 0) in vec3 a_pos;
layout(location = 1) in vec3 a_nrm;
layout(location = 2) in ivec4 a_widx;
layout(location = 3) in vec4 a_wval;
uniform mat4 u_vp;
uniform vec4 u_skin[66];   // 22 joints x 3 rows of the (3x4) rest->posed transform
uniform vec4 u_tint[22];   // premultiplied per-joint tint (rgb*a, a)
out vec3 v_pos;
out vec3 v_nrm;
out vec4 v_tint;
void main() {
    vec4 r0 = vec4(0.0), r1 = vec4(0.0), r2 = vec4(0.0), tint = vec4(0.0);
    for (int k = 0; k < 4; ++k) {
        int j = a_widx[k];
        float w = a_wval[k];
        r0 += w * u_skin[3 * j];
        r1 += w * u_skin[3 * j + 1];
        r2 += w * u_skin[3 * j + 2];
        tint += w * u_tint[j];
    }
    vec4 p = vec4(a_pos, 1.0);
    vec3 wp = vec3(dot(r0, p), dot(r1, p), dot(r2, p));
    v_nrm = vec3(dot(r0.xyz, a_nrm), dot(r1.xyz, a_nrm), dot(r2.xyz, a_nrm));
    v_pos = wp;
    v_tint = tint;
    gl_Position = u_vp * vec4(wp, 1.0);
}
"""

BODY_FS = """#version 330 core
in vec3 v_pos;
in vec3 v_nrm;
in vec4 v_tint;
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
out vec4 frag;
void main() {
    vec3 n = normalize(v_nrm);
    vec3 V = (u_ortho == 1) ? -u_view_dir : normalize(u_eye - v_pos);
    float nv = dot(n, V);
    if (nv < 0.0) { n = normalize(n - 1.01 * nv * V); nv = dot(n, V); }  // inner surfaces seen from outside
    vec3 albedo = u_albedo * (1.0 - clamp(v_tint.a, 0.0, 1.0)) + v_tint.rgb;
    // hemispheric ambient with a touch of occlusion near the floor
    vec3 amb = mix(u_ground, u_sky, n.y * 0.5 + 0.5);
    float ao = mix(0.72, 1.0, smoothstep(0.0, 0.30, v_pos.y - u_floor_y));
    // wrapped diffuse (soft, skin-like)
    const float wrap = 0.4;
    float kd = max((dot(n, u_key_dir) + wrap) / (1.0 + wrap), 0.0);
    float fd = max((dot(n, u_fill_dir) + wrap) / (1.0 + wrap), 0.0);
    vec3 H = normalize(u_key_dir + V);
    float spec = pow(max(dot(n, H), 0.0), 28.0) * 0.10;
    float rim = pow(1.0 - max(nv, 0.0), 3.0);
    vec3 c = albedo * (amb * ao + kd * u_key_col + fd * u_fill_col) + spec * u_key_col + rim * u_rim_col;
    c = c / (1.0 + 0.25 * c);                       // soft shoulder tone map
    frag = vec4(pow(max(c, vec3(0.0)), vec3(1.0 / 2.2)), 1.0);
}
"""

# --- floor: procedural grid + contact shadow ------------------------------------------------------------
FLOOR_VS = """#version 330 core
uniform mat4 u_vp;
uniform float u_floor_y;
uniform vec2 u_center;
uniform float u_half;
out vec3 v_pos;
void main() {
    vec2 c = vec2(((gl_VertexID & 1) == 1) ? 1.0 : -1.0, ((gl_VertexID & 2) == 2) ? 1.0 : -1.0);
    vec3 p = vec3(u_center.x + c.x * u_half, u_floor_y, u_center.y + c.y * u_half);
    v_pos = p;
    gl_Position = u_vp * vec4(p, 1.0);
}
"""

FLOOR_FS = """#version 330 core
in vec3 v_pos;
uniform vec2 u_center;
uniform float u_fade;
uniform vec4 u_floor_col;
uniform vec4 u_minor_col;
uniform vec4 u_major_col;
uniform vec4 u_axis_x_col;
uniform vec4 u_axis_z_col;
uniform int u_show_grid;
uniform float u_floor_y;
uniform vec4 u_shadow_pts[22];   // xyz joint, w = blob radius
uniform vec4 u_shadow_box;       // xmin, zmin, xmax, zmax
uniform float u_shadow_strength;
out vec4 frag;

float grid(vec2 p, float spacing, float width_px) {
    vec2 q = p / spacing;
    vec2 d = abs(fract(q - 0.5) - 0.5);
    vec2 fw = max(fwidth(q), vec2(1e-5));
    vec2 l = 1.0 - clamp(d / (fw * width_px), 0.0, 1.0);
    return max(l.x, l.y);
}
float axis_line(float coord, float width_px) {
    float fw = max(fwidth(coord), 1e-5);
    return 1.0 - clamp(abs(coord) / (fw * width_px), 0.0, 1.0);
}

void main() {
    vec2 p = v_pos.xz;
    float r = length(p - u_center);
    float fade = 1.0 - smoothstep(u_fade * 0.35, u_fade, r);
    vec4 col = u_floor_col;
    if (u_show_grid == 1) {
        vec2 fwp = fwidth(p);
        float far_fade = 1.0 - smoothstep(0.015, 0.06, max(fwp.x, fwp.y));
        float minor = grid(p, 0.25, 1.0) * far_fade;
        float major = grid(p, 1.0, 1.4);
        col.rgb = mix(col.rgb, u_minor_col.rgb, minor * u_minor_col.a);
        col.a = max(col.a, minor * u_minor_col.a);
        col.rgb = mix(col.rgb, u_major_col.rgb, major * u_major_col.a);
        col.a = max(col.a, major * u_major_col.a);
        float ax = axis_line(p.y, 1.6);   // the x axis (z = 0)
        float az = axis_line(p.x, 1.6);   // the z axis (x = 0)
        col.rgb = mix(col.rgb, u_axis_x_col.rgb, ax * u_axis_x_col.a);
        col.rgb = mix(col.rgb, u_axis_z_col.rgb, az * u_axis_z_col.a);
        col.a = max(col.a, max(ax * u_axis_x_col.a, az * u_axis_z_col.a));
    }
    float a = col.a * fade;
    float keep = 1.0;   // product of (1 - blob) terms
    if (u_shadow_strength > 0.0 && p.x > u_shadow_box.x && p.y > u_shadow_box.y &&
        p.x < u_shadow_box.z && p.y < u_shadow_box.w) {
        for (int i = 0; i < 22; ++i) {
            vec4 j = u_shadow_pts[i];
            float h = max(j.y - u_floor_y, 0.0);
            float rad = j.w + 0.35 * h;
            vec2 d = p - j.xz;
            float s = exp(-dot(d, d) / (rad * rad)) * exp(-2.5 * h);
            keep *= 1.0 - 0.45 * s;
        }
    }
    float sh = (1.0 - keep) * u_shadow_strength;
    // premultiplied: (F*a + dst*(1-a)) * (1-sh)
    frag = vec4(col.rgb * a * (1.0 - sh), 1.0 - (1.0 - a) * (1.0 - sh));
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
    float rim = pow(1.0 - max(dot(n, -u_view_dir), 0.0), 2.0);
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
    v_axis = axis;
    gl_Position = u_vp * vec4(p, 1.0);
}
"""

GIZMO_FS = """#version 330 core
in vec3 v_pos;
in vec3 v_nrm;
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
    bool back = dot(v_pos - u_center, u_to_eye) < 0.0;
    if (back) { a *= 0.30; }
    vec3 n = normalize(v_nrm);
    float l = 0.65 + 0.35 * max(dot(n, u_to_eye), 0.0);
    frag = vec4(c * l * a, a);   // premultiplied
}
"""
