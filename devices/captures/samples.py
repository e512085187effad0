"""Sample captures drawn by the project with Pillow (no downloaded images): a photo-like portrait,
a handwritten-looking signature and synthetic fingerprint ridges. Deterministic per seed, so tests
and the demo see the same pictures every run.
"""

from __future__ import annotations

import io
import math
import random
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw, ImageFilter

if TYPE_CHECKING:
    from devices.captures.model import FingerPosition

# BSI TR-03121-3 (GID) v6.0: live and delivered facial images are 1244×1600 px (35×45 mm).
PHOTO_SIZE = (1244, 1600)


def portrait(seed: int, size: tuple[int, int] = PHOTO_SIZE) -> Image.Image:
    rng = random.Random(seed)
    width, height = size
    grey = rng.randint(205, 230)
    image = Image.new("RGB", size, (grey, grey + 2, grey + 5))
    draw = ImageDraw.Draw(image)
    cx = width // 2
    skin = (rng.randint(180, 235), rng.randint(140, 190), rng.randint(110, 160))
    hair = (rng.randint(20, 90), rng.randint(15, 60), rng.randint(10, 40))
    coat = (rng.randint(20, 80), rng.randint(30, 90), rng.randint(60, 120))
    s = width / 1244  # drawn for 1244 px wide; scaled for other sizes
    # shoulders and neck
    draw.ellipse([cx - 560 * s, height - 360 * s, cx + 560 * s, height + 500 * s], fill=coat)
    draw.rectangle([cx - 120 * s, height - 560 * s, cx + 120 * s, height - 300 * s], fill=skin)
    # hair behind, head, hair on top
    draw.ellipse([cx - 360 * s, 170 * s, cx + 360 * s, 1000 * s], fill=hair)
    draw.ellipse([cx - 320 * s, 260 * s, cx + 320 * s, 1140 * s], fill=skin)
    draw.chord([cx - 340 * s, 190 * s, cx + 340 * s, 700 * s], 180, 360, fill=hair)
    # eyes ~340 px apart (the TR asks for an inter-eye distance of at least 300 px)
    eye_y = 700 * s
    for dx in (-170, 170):
        ex = cx + dx * s
        draw.ellipse([ex - 60 * s, eye_y - 26 * s, ex + 60 * s, eye_y + 26 * s], fill=(245, 245, 245))
        draw.ellipse([ex - 22 * s, eye_y - 22 * s, ex + 22 * s, eye_y + 22 * s], fill=(70, 90, 110))
        draw.ellipse([ex - 9 * s, eye_y - 9 * s, ex + 9 * s, eye_y + 9 * s], fill=(10, 10, 10))
        draw.line(
            [ex - 70 * s, eye_y - 60 * s, ex + 70 * s, eye_y - 70 * s], fill=hair, width=int(14 * s) or 1
        )
    # nose and mouth
    shade = tuple(max(0, c - 40) for c in skin)
    draw.line(
        [cx, eye_y + 40 * s, cx - 25 * s, 880 * s, cx + 10 * s, 895 * s], fill=shade, width=int(8 * s) or 1
    )
    draw.arc(
        [cx - 110 * s, 900 * s, cx + 110 * s, 1010 * s], 20, 160, fill=(150, 70, 70), width=int(10 * s) or 1
    )
    # a little sensor noise and softness, so the JPEG is photo-like in size
    noise = Image.effect_noise(size, 40).convert("RGB")
    image = Image.blend(image, noise, 0.06).filter(ImageFilter.GaussianBlur(1.2))
    return image


def encode(image: Image.Image, media_type: str, *, quality: int = 92) -> bytes:
    out = io.BytesIO()
    if media_type == "image/jpeg":
        image.save(out, "JPEG", quality=quality, dpi=(903, 903))
    elif media_type == "image/jp2":
        image.save(out, "JPEG2000", irreversible=True, quality_mode="rates", quality_layers=[8])
    elif media_type == "image/png":
        image.save(out, "PNG", optimize=True)
    else:
        raise ValueError(media_type)
    return out.getvalue()


def signature_image(seed: int, size: tuple[int, int] = (900, 260)) -> Image.Image:
    rng = random.Random(seed)
    width, height = size
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    phases = [rng.uniform(0, math.tau) for _ in range(3)]
    points = []
    for step in range(400):
        t = step / 399
        x = 40 + t * (width - 80)
        y = height / 2 + 55 * math.sin(9 * t * math.pi + phases[0]) * math.sin(2 * t * math.pi + phases[1])
        y += 25 * math.sin(23 * t * math.pi + phases[2])
        points.append((x, y))
    draw.line(points, fill=20, width=5, joint="curve")
    draw.line([(60, height - 50), (width - 120, height - 60)], fill=40, width=3)
    return image


def fingerprint_image(seed: int, position: FingerPosition, size: tuple[int, int] = (400, 500)) -> Image.Image:
    """Concentric, wavering ridges inside a fingertip outline (500 ppi plain impression size)."""
    rng = random.Random(seed * 31 + int(position))
    width, height = size
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    cx = width / 2 + rng.uniform(-30, 30)
    cy = height / 2 + rng.uniform(-40, 20)
    wobble = rng.uniform(0.05, 0.12)
    for ring in range(1, 40):
        r = ring * 9.0
        points = []
        for step in range(181):
            a = step / 180 * math.tau
            rr = r * (1 + wobble * math.sin(3 * a + ring * 0.3))
            points.append((cx + rr * 0.8 * math.cos(a), cy + rr * math.sin(a)))
        draw.line(points, fill=30, width=4)
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).ellipse([20, 10, width - 20, height - 10], fill=255)
    white = Image.new("L", size, 255)
    return Image.composite(image, white, mask)
