"""A ray-casting renderer for the simulated scene, with exact ground truth.

Every pixel is the first surface its ray meets, so depth and stereo disparity follow
projective geometry exactly. The room never moves: it is rendered once per camera,
supersampled against aliasing (aliasing differs between left and right views and would
show up as stereo errors), and cached. Each frame then only casts rays inside each
object's projected bounding rectangle and z-tests them against what is already there.

Ray directions are (X(u), Y(v), 1) in camera coordinates, so a ray's parameter is the
z-depth of its hit. Objects only rotate about the vertical axis, which keeps the
object-frame direction separable for an upright camera: x and z depend on the column,
y on the row. A camera turned in the world (a moving rig, sim/motion.py) loses that: its
directions are full arrays, and its room is traced every frame, without the cache and
without supersampling (what that costs: README, sim.camera_motion).
"""
from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np

from depthai_ros_bridge.core.camera_info import quaternion
from depthai_ros_bridge.core.camera_model import CameraModel
from depthai_ros_bridge.sim.classes import CLASSES
from depthai_ros_bridge.sim.scene import Plane, Scene, SceneObject

_LIGHT = np.array([0.35, -1.0, -0.45]) / np.linalg.norm([0.35, -1.0, -0.45])  # towards the light
_AMBIENT, _DIFFUSE = 0.45, 0.55
_BGR_TO_GRAY = np.array([0.114, 0.587, 0.299], np.float32)   # ITU-R BT.601, as cv2.cvtColor
_ROOM_TEXEL_M = 0.01
_OBJECT_TEXEL_M = 0.008
_TEXTURE_SIZE = 1024
_SUPERSAMPLED_WIDTH = 2560     # room images are rendered about this wide, then averaged down
_BAND_ROWS = 64
_UPRIGHT = (0.0, 0.0, 0.0, 1.0)
_MOVING_ROOM_WIDTH = 960


def posed(camera: CameraModel, R: np.ndarray, p: np.ndarray) -> CameraModel:
    """A rig camera placed in the world by the rig's pose (R: rig axes in the world, p: rig origin)."""
    x, y, z = (float(v) for v in R @ np.asarray(camera.position) + p)
    return replace(camera, position=(x, y, z), rotation=quaternion(R @ camera.R))


@dataclass(frozen=True)
class PixelBox:
    """Bounding box of an object's visible pixels: columns x0..x1-1, rows y0..y1-1."""

    x0: int
    y0: int
    x1: int
    y1: int
    pixels: int          # how many pixels of the object are visible


@dataclass(frozen=True)
class RenderResult:
    camera: CameraModel
    t: float
    image: np.ndarray    # uint8: BGR (H, W, 3), or luminance (H, W) for a mono camera
    depth: np.ndarray    # float32 z-depth in metres, inf where the ray meets nothing
    mask: np.ndarray     # int16 index of the object seen at each pixel, -1 for the room
    objects: tuple[SceneObject, ...]
    boxes: tuple[PixelBox | None, ...]    # per object; None where it is not visible


def _noise_texture(seed: int, contrast: float) -> np.ndarray:
    """Tileable multi-octave value noise: a brightness factor around 1 (float32)."""
    rng = np.random.default_rng(seed)
    n = _TEXTURE_SIZE
    total = np.zeros((n, n), np.float32)
    for cell, weight in ((1, 0.6), (2, 1.0), (4, 0.8), (16, 0.5), (64, 0.4)):
        coarse = np.pad(rng.standard_normal((n // cell, n // cell)).astype(np.float32), 2,
                        mode="wrap")
        fine = cv2.resize(coarse, None, fx=cell, fy=cell, interpolation=cv2.INTER_CUBIC)
        total += weight * fine[2 * cell:2 * cell + n, 2 * cell:2 * cell + n]
    total /= total.std()
    return np.clip(1 + contrast * total, 1 - 2 * contrast, 1 + 2 * contrast)


@functools.cache
def _room_texture() -> np.ndarray:
    return _noise_texture(1, 0.22)


@functools.cache
def _object_texture() -> np.ndarray:
    return _noise_texture(2, 0.13)


def _sample(texture: np.ndarray, u_m: np.ndarray, v_m: np.ndarray, texel_m: float) -> np.ndarray:
    """Bilinear, wrapping texture lookup at surface coordinates in metres, of the coordinates' shape
    (a list of points, or an image's rectangle)."""
    if u_m.ndim == 2 and u_m.shape[1] < 32767:      # an image's rectangle: remap takes it as it is
        return cv2.remap(texture, u_m / np.float32(texel_m), v_m / np.float32(texel_m), cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_WRAP)
    # cv2.remap wants maps under 32767 wide: lay the points out in rows of 1024.
    n = u_m.size
    flat = np.zeros((2, -(-n // 1024) * 1024), np.float32)
    flat[0, :n], flat[1, :n] = u_m, v_m
    maps = (flat / texel_m).reshape(2, -1, 1024)
    return cv2.remap(texture, maps[0], maps[1], cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_WRAP).ravel()[:n]


def _shade(normals: np.ndarray) -> np.ndarray:
    return _AMBIENT + _DIFFUSE * np.maximum(normals @ _LIGHT, 0.0)


def _rays(camera: CameraModel, v0: int = 0, v1: int | None = None):
    xs = ((np.arange(camera.width) - camera.cx) / camera.fx).astype(np.float32)
    ys = ((np.arange(v0, camera.height if v1 is None else v1) - camera.cy) / camera.fy)
    return xs, ys.astype(np.float32)


def _world_dirs(camera: CameraModel, xs: np.ndarray, ys: np.ndarray):
    """World components of the rays (X(u), Y(v), 1): separable for an unturned camera, else full arrays."""
    if tuple(camera.rotation) == _UPRIGHT:
        return xs[None, :], ys[:, None], np.float32(1)
    R = camera.R.astype(np.float32)
    return tuple(R[i, 0] * xs[None, :] + R[i, 1] * ys[:, None] + R[i, 2] for i in range(3))


def _trace_room(planes: tuple[Plane, ...], camera: CameraModel, v0: int, v1: int):
    """z-depth (float32, h x W) and plane index of the first plane hit, rows v0..v1-1."""
    xs, ys = _rays(camera, v0, v1)
    dirs = _world_dirs(camera, xs, ys)
    shape = (v1 - v0, camera.width)
    depth = np.full(shape, np.inf, np.float32)
    index = np.full(shape, -1, np.int8)
    t, closer = np.empty(shape, np.float32), np.empty(shape, bool)     # reused: whole-image temporaries cost
    with np.errstate(divide="ignore"):
        for i, plane in enumerate(planes):
            np.divide(np.float32(plane.offset - camera.position[plane.axis]), dirs[plane.axis], out=t)
            np.less(t, depth, out=closer)
            closer &= t > 0
            np.copyto(depth, t, where=closer)
            index[closer] = i
    return depth, index


def _shade_room(planes: tuple[Plane, ...], camera: CameraModel, v0: int, v1: int,
                mono: bool) -> tuple[np.ndarray, np.ndarray]:
    """Radiance of rows v0..v1-1 (float32, h x W x 3, or h x W for mono), and their z-depth.

    Each plane is shaded over the rectangle that holds its pixels and written where it is the one
    seen: whole-rectangle arithmetic is about twice as fast as gathering and scattering its pixels."""
    depth, index = _trace_room(planes, camera, v0, v1)
    xs, ys = _rays(camera, v0, v1)
    turned = tuple(camera.rotation) != _UPRIGHT
    R, position = camera.R.astype(np.float32), np.asarray(camera.position, np.float32)
    texture = _room_texture()
    out = np.zeros(depth.shape + (() if mono else (3,)), np.float32)
    for i, plane in enumerate(planes):
        mine = index == i
        rows, cols = np.flatnonzero(mine.any(1)), np.flatnonzero(mine.any(0))
        if rows.size == 0:
            continue
        r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        mine, t = mine[r0:r1, c0:c1], depth[r0:r1, c0:c1]
        u_axis, v_axis = [a for a in range(3) if a != plane.axis]
        x, y = xs[None, c0:c1], ys[r0:r1, None]
        if turned:     # the two in-plane world coordinates of each hit, component by component
            hit_u, hit_v = ((R[a, 0] * x + R[a, 1] * y + R[a, 2]) * t + position[a] for a in (u_axis, v_axis))
        else:
            hit = (x * t, y * t, t)
            hit_u, hit_v = hit[u_axis] + position[u_axis], hit[v_axis] + position[v_axis]
        # Offset each plane into its own part of the texture so no two look alike (the rectangle's other
        # pixels extend this plane's coordinates past the room: wrapped, then dropped).
        tex = _sample(texture, hit_u + 3.1 * i, hit_v + 1.7 * i, _ROOM_TEXEL_M) \
            if plane.textured else np.ones(t.shape, np.float32)
        normal = np.zeros(3)
        normal[plane.axis] = -np.sign(plane.offset)     # the room's planes face the rig
        albedo = np.asarray(plane.bgr, np.float32)
        if mono:
            albedo = albedo @ _BGR_TO_GRAY
        np.copyto(out[r0:r1, c0:c1], np.multiply.outer(tex * _shade(normal), albedo),
                  where=mine if mono else mine[..., None])
    return out, depth


def _to_uint8(radiance: np.ndarray) -> np.ndarray:
    """Rounded (half to even) and saturated to 0..255: radiance is never negative, so OpenCV's
    convertScaleAbs gives np.clip(np.rint(radiance), 0, 255) exactly, ~7x faster."""
    return cv2.convertScaleAbs(radiance)


@functools.lru_cache(maxsize=16)
def _background(planes: tuple[Plane, ...], camera: CameraModel, mono: bool):
    """The room alone: image (uint8, read-only) and depth (float32, read-only)."""
    ss = max(1, round(_SUPERSAMPLED_WIDTH / camera.width))
    fine = camera.scaled(camera.width * ss, camera.height * ss)
    bands = []
    for v in range(0, camera.height, _BAND_ROWS):
        v1 = min(v + _BAND_ROWS, camera.height)
        band = _shade_room(planes, fine, v * ss, v1 * ss, mono)[0]
        bands.append(cv2.resize(band, (camera.width, v1 - v), interpolation=cv2.INTER_AREA))
    image = _to_uint8(np.concatenate(bands))
    depth, _ = _trace_room(planes, camera, 0, camera.height)
    image.flags.writeable = depth.flags.writeable = False
    return image, depth


def _room(planes: tuple[Plane, ...], camera: CameraModel, mono: bool):
    """The room from a camera seen once (a moving rig), not cached. Wider than _MOVING_ROOM_WIDTH its colours are
    shaded at half size and scaled up (1 cm texels stay over-resolved: at 720p a pixel spans 2-5 mm of wall);
    its depth is always traced at full size, exact."""
    if camera.width <= _MOVING_ROOM_WIDTH:
        radiance, depth = _shade_room(planes, camera, 0, camera.height, mono)
    else:
        half = camera.scaled(camera.width // 2, camera.height // 2)
        radiance = cv2.resize(_shade_room(planes, half, 0, half.height, mono)[0], (camera.width, camera.height),
                              interpolation=cv2.INTER_LINEAR)
        depth = _trace_room(planes, camera, 0, camera.height)[0]
    return _to_uint8(radiance), depth


def _rotation(yaw: float) -> np.ndarray:
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def _screen_rect(camera: CameraModel, obj: SceneObject):
    """Pixel rectangle (x0, y0, x1, y1) that holds the object's projection, or None."""
    corners = np.array(np.meshgrid([-1, 1], [-1, 1], [-1, 1])).reshape(3, -1).T * obj.size / 2
    cam = camera.to_camera(corners @ _rotation(obj.yaw).T + obj.centre)
    if np.any(cam[:, 2] <= 1e-3):        # reaches behind the camera: check every pixel
        return 0, 0, camera.width, camera.height
    uv = camera.project(cam)
    x0, y0 = (max(int(np.floor(c)), 0) for c in uv.min(0))
    x1 = min(int(np.ceil(uv[:, 0].max())) + 1, camera.width)
    y1 = min(int(np.ceil(uv[:, 1].max())) + 1, camera.height)
    return (x0, y0, x1, y1) if x0 < x1 and y0 < y1 else None


def _intersect(shape: str, half: np.ndarray, o: Sequence[float], dx, dy, dz) -> np.ndarray:
    """Ray parameter of the first hit on an object centred at the origin (inf = miss).

    o is the ray origin in the object frame; dx, dz are (1, w) and dy (h, 1) arrays."""
    ox, oy, oz = map(float, o)
    hx, hy, hz = map(float, half)
    if shape == "box":       # slab method
        tx0, tx1 = (-hx - ox) / dx, (hx - ox) / dx
        ty0, ty1 = (-hy - oy) / dy, (hy - oy) / dy
        tz0, tz1 = (-hz - oz) / dz, (hz - oz) / dz
        near = np.maximum(np.maximum(np.minimum(tx0, tx1), np.minimum(tz0, tz1)),
                          np.minimum(ty0, ty1))
        far = np.minimum(np.minimum(np.maximum(tx0, tx1), np.maximum(tz0, tz1)),
                         np.maximum(ty0, ty1))
        return np.where((near <= far) & (near > 0), near, np.inf)
    if shape == "sphere":
        a = dx * dx + dz * dz + dy * dy
        b = ox * dx + oz * dz + oy * dy
        disc = b * b - a * (ox * ox + oy * oy + oz * oz - hx * hx)
        t = (-b - np.sqrt(np.maximum(disc, 0))) / a
        return np.where((disc >= 0) & (t > 0), t, np.inf)
    if shape == "cylinder":  # vertical axis: the side only depends on the column
        a = dx * dx + dz * dz
        b = ox * dx + oz * dz
        disc = b * b - a * (ox * ox + oz * oz - hx * hx)
        t_side = (-b - np.sqrt(np.maximum(disc, 0))) / a
        y_side = oy + t_side * dy
        side = (disc >= 0) & (t_side > 0) & (np.abs(y_side) <= hy)
        # Only the cap facing the camera can be hit first.
        t_cap = (math.copysign(hy, oy) - oy) / dy     # a Python float: np.copysign would make it float64
        cx, cz = ox + t_cap * dx, oz + t_cap * dz
        cap = (t_cap > 0) & (cx * cx + cz * cz <= hx * hx)
        return np.where(side, t_side, np.where(cap, t_cap, np.inf))
    # Cone, apex up (at y = -hy): x^2 + z^2 = k^2 (y + hy)^2. Its base stands on the
    # floor, which hides it from every camera above the floor.
    k2 = (hx / (2 * hy)) ** 2
    oa = oy + hy
    a = dx * dx + dz * dz - k2 * dy * dy
    b = ox * dx + oz * dz - k2 * oa * dy
    disc = b * b - a * (ox * ox + oz * oz - k2 * oa * oa)
    root = np.sqrt(np.maximum(disc, 0))
    r1, r2 = (-b - root) / a, (-b + root) / a
    result = np.full(r1.shape, np.inf, np.float32)
    for t in (np.maximum(r1, r2), np.minimum(r1, r2)):   # the nearer valid root wins
        y = oy + t * dy
        ok = (disc >= 0) & (t > 0) & (y >= -hy) & (y <= hy)
        result = np.where(ok, t, result)
    return result


def _normals(shape: str, half: np.ndarray, p: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    """Outward unit normals (nx, ny, nz) at object-frame surface points p = (x, y, z)."""
    x, y, z = p
    hx, hy, hz = map(float, half)
    if shape == "box":       # the face is the one the point is relatively farthest along
        qx, qy, qz = np.abs(x) / hx, np.abs(y) / hy, np.abs(z) / hz
        on_x = (qx >= qy) & (qx >= qz)
        on_y = ~on_x & (qy >= qz)
        on_z = ~on_x & ~on_y
        return np.sign(x) * on_x, np.sign(y) * on_y, np.sign(z) * on_z
    if shape == "sphere":
        return x / hx, y / hx, z / hx
    if shape == "cylinder":
        radial = np.hypot(x, z)
        side = np.abs(y) / hy <= radial / hx
        return np.where(side, x / radial, 0), np.where(side, 0, np.sign(y)), \
            np.where(side, z / radial, 0)
    ny = -(hx / (2 * hy)) ** 2 * (y + hy)
    norm = np.sqrt(x * x + ny * ny + z * z)
    return x / norm, ny / norm, z / norm


def _cube_map(p, n, offset: float) -> tuple[np.ndarray, np.ndarray]:
    """Surface texture coordinates: the point projected along its normal's main axis."""
    ax, ay, az = (np.abs(c) for c in n)
    along_x = (ax >= ay) & (ax >= az)
    along_y = ~along_x & (ay >= az)
    u = np.where(along_x, p[2], p[0]) + offset
    v = np.where(along_y, p[2] + 0.53, p[1]) + along_x * np.float32(0.31)   # faces differ
    return u, v


class Renderer:
    """Renders a Scene from any CameraModel at any time."""

    def __init__(self, scene: Scene):
        self.scene = scene

    def background(self, camera: CameraModel, mono: bool = False) -> np.ndarray:
        """The room without its objects, as `render` would show it (read-only)."""
        return _background(self.scene.planes, camera, mono)[0]

    def background_depth(self, camera: CameraModel) -> np.ndarray:
        """The room's z-depth as `background` shows it (read-only)."""
        return _background(self.scene.planes, camera, True)[1]

    def render(self, camera: CameraModel, t: float, mono: bool = False,
               rig_pose: tuple[np.ndarray, np.ndarray] | None = None) -> RenderResult:
        """The scene at time t through `camera` (placed in the rig frame); `rig_pose` (R, p) places the rig in
        the world (None: at rest, where the cached room applies). The result's depth is the camera's z-depth."""
        if rig_pose is None:
            bg_image, bg_depth = _background(self.scene.planes, camera, mono)
            image, depth = bg_image.copy(), bg_depth.copy()
        else:
            camera = posed(camera, *rig_pose)
            image, depth = _room(self.scene.planes, camera, mono)
        mask = np.full(depth.shape, -1, np.int16)
        objects = tuple(self.scene.objects_at(t))
        xs, ys = _rays(camera)
        rects = [_screen_rect(camera, obj) for obj in objects]
        for obj, rect in zip(objects, rects):
            if rect is not None:
                _draw(obj, camera, rect, xs, ys, image, depth, mask, mono)
        boxes = tuple(None if rect is None else _visible_box(mask, rect, obj.index)
                      for obj, rect in zip(objects, rects))
        return RenderResult(camera, t, image, depth, mask, objects, boxes)


def _draw(obj: SceneObject, camera: CameraModel, rect, xs, ys, image, depth, mask,
          mono: bool) -> None:
    """Ray-cast one object inside rect; where it is nearer, write depth, mask and colour."""
    x0, y0, x1, y1 = rect
    rot = _rotation(obj.yaw)
    half = np.asarray(obj.size) / 2
    # Ray origin and directions in the object frame (directions scaled so t = z-depth).
    o = [float(v) for v in rot.T @ (np.asarray(camera.position) - obj.centre)]
    x, y = xs[None, x0:x1], ys[y0:y1, None]
    if tuple(camera.rotation) == _UPRIGHT:
        c, s = np.float32(rot[0, 0]), np.float32(rot[0, 2])
        dx, dz, dy = c * x - s, s * x + c, y
    else:
        m = (rot.T @ camera.R).astype(np.float32)
        dx, dy, dz = (m[i, 0] * x + m[i, 1] * y + m[i, 2] for i in range(3))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = _intersect(obj.shape, half, o, dx, dy, dz)
    region = depth[y0:y1, x0:x1]
    rows, cols = np.nonzero(t < region)
    if rows.size == 0:
        return
    t = t[rows, cols]
    dx, dy, dz = (np.broadcast_to(d, region.shape)[rows, cols] for d in (dx, dy, dz))
    p = (o[0] + dx * t, o[1] + dy * t, o[2] + dz * t)
    n = _normals(obj.shape, half, p)
    tex = _sample(_object_texture(), *_cube_map(p, n, 1.3 * obj.index), _OBJECT_TEXEL_M)
    light = [float(v) for v in rot.T @ _LIGHT]
    lambert = n[0] * light[0] + n[1] * light[1] + n[2] * light[2]
    # Texture and light scale all channels alike: the class's hue survives.
    albedo = np.asarray(CLASSES[obj.class_index].bgr, np.float32)
    if mono:
        albedo = albedo @ _BGR_TO_GRAY
    brightness = tex * (_AMBIENT + _DIFFUSE * np.maximum(lambert, 0))
    colour = np.minimum(np.multiply.outer(brightness, albedo) + 0.5, 255)   # rounded
    flat = (rows + y0) * camera.width + (cols + x0)    # the arrays are C-contiguous
    depth.reshape(-1)[flat] = t
    mask.reshape(-1)[flat] = obj.index
    image.reshape(-1, *image.shape[2:])[flat] = colour.astype(np.uint8)


def _visible_box(mask: np.ndarray, rect, index: int) -> PixelBox | None:
    x0, y0, x1, y1 = rect
    mine = mask[y0:y1, x0:x1] == index
    rows, cols = np.flatnonzero(mine.any(1)), np.flatnonzero(mine.any(0))
    if rows.size == 0:
        return None
    return PixelBox(x0 + int(cols[0]), y0 + int(rows[0]), x0 + int(cols[-1]) + 1,
                    y0 + int(rows[-1]) + 1, int(np.count_nonzero(mine)))
