"""Qt-free OpenGL rendering for PoseTailor.

camera.py      OrbitCamera (orbit/pan/zoom/frame, view & projection, project, pixel → ray)   — no GL
picking.py     ray vs joint spheres, ray vs gizmo rings, RingDrag, rotate_joint_about_world_axis — no GL
geometry.py    icosphere / torus meshes                                                     — no GL
shaders.py     GLSL 3.30 core sources
scene.py       SceneRenderer (GPU-skinned body, grid, contact shadow, markers, gizmo, inset), OffscreenTarget,
               pose_state (numpy FK → skin matrices)                                         — imports PyOpenGL
offscreen.py   headless EGL/OSMesa context + render_pose_image()                             — picks PyOpenGL's platform
thumbnails.py  batch thumbnails in one headless context (+ a child-process entry point)

Importing this package imports nothing heavy; scene/offscreen import PyOpenGL. Never import offscreen or
thumbnails into a process that renders with Qt's OpenGL (the app uses app/viewport/thumbnails.py).
"""
