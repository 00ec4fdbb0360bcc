"""Pictures of a trace drawn in Chromium: the SVG of a step's diagram, and slides (a step as the
viewer's presentation mode shows it) as PNG, an animated GIF or a PDF, one slide a page.

The browser opens the exported viewer (`server/offline.py`) from a file, with every network
request refused, so a picture is exactly what that file shows. Chromium is the system's
(`$PYRONA_CHROMIUM`, else `chromium` on the PATH), driven by Playwright; Playwright's own
browser downloads are never used.
"""

from __future__ import annotations

import base64
import io
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import PyronaError
from .tracer.store import TraceStore

#: flags for a headless Chromium on a server (no sandbox of its own: run it inside ours)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: a slide's size unless asked: a projector's 720p
SLIDE_SIZE = (1280, 720)
#: how long one step may take to draw (a 300-object step takes seconds)
DRAW_TIMEOUT_MS = 60_000
#: how long each slide of a GIF stays up
GIF_FRAME_MS = 2_500


#: what a slide picture leaves out of the viewer's presentation mode: what can only be clicked
PICTURE_STYLE = ".toolbar, .view-controls, .banner .btn { display: none !important; }"


class PictureError(PyronaError):
    """A picture cannot be drawn: no Chromium, or the page failed to draw the step."""

    kind = "export"


def chromium() -> str:
    """The Chromium to draw with: `$PYRONA_CHROMIUM`, else the first on the PATH."""
    named = os.environ.get("PYRONA_CHROMIUM")
    if named:
        if not os.access(named, os.X_OK):
            raise PictureError(f"$PYRONA_CHROMIUM names {named!r}, which is not an executable")
        return named
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise PictureError("drawing SVG, PNG, GIF or PDF needs Chromium (apt-get install chromium), "
                       "or $PYRONA_CHROMIUM naming one")


@dataclass(frozen=True)
class Slide:
    """One drawn slide: its step and its screenshot (PNG bytes)."""

    step: int
    png: bytes


class Camera:
    """The exported viewer of one trace open in a headless Chromium, shown as slides
    (presentation mode) at `size`: `show(step)` then `png()` or `svg()`."""

    def __init__(self, store: TraceStore, trace: int, size: tuple[int, int] = SLIDE_SIZE,
                 scale: float = 1.0, present: bool = True, deadline: float | None = None) -> None:
        self.store, self.trace, self.size, self.scale, self.present = store, trace, size, scale, present
        self.deadline = deadline

    def __enter__(self) -> Camera:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError as exc:
            raise PictureError("drawing pictures needs playwright (pip install playwright)") from exc
        from .exports import write_html

        executable = chromium()
        self._browser = self._playwright = None
        self._folder = tempfile.TemporaryDirectory(prefix="pyrona-pictures-")
        try:
            page_file = Path(self._folder.name) / "viewer.html"
            with open(page_file, "w", encoding="utf-8") as out:
                write_html(self.store, self.trace, out)
            self._playwright = sync_playwright().start()
            self._browser = self._playwright.chromium.launch(executable_path=executable, headless=True,
                                                              args=CHROMIUM_ARGS)
            context = self._browser.new_context(
                viewport={"width": self.size[0], "height": self.size[1]}, device_scale_factor=self.scale)
            # every wait (loading the page, printing a PDF), not only drawing, as patient as a
            # step's drawing: Playwright's own 30 s failed exports on a loaded machine
            context.set_default_timeout(DRAW_TIMEOUT_MS)
            # the page is the file alone: nothing it asks of a network is answered
            context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                          else route.abort())
            self.page = context.new_page()
            self._errors: list[str] = []
            self.page.on("pageerror", lambda err: self._errors.append(str(err)))
            self.page.goto(page_file.as_uri())
            self._wait_drawn(0)
            if self.present:
                self.page.keyboard.press("P")
                self.page.wait_for_function("document.body.classList.contains('present')")
                # a picture cannot be clicked: no buttons, and the whole diagram in view
                self.page.add_style_tag(content=PICTURE_STYLE)
        except PictureError:
            self.__exit__(None, None, None)
            raise
        except Exception as exc:  # (Playwright's: Chromium would not start, or the page broke)
            self.__exit__(None, None, None)
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise PictureError(f"Chromium ({executable}) could not draw the trace: {first}") from exc
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            if self._browser is not None:
                self._browser.close()
            if self._playwright is not None:
                self._playwright.stop()
        finally:
            self._folder.cleanup()

    def total(self) -> int:
        return int(self.page.evaluate("window.pyronaViewer.state.total"))

    def show(self, step: int) -> None:
        """Go to `step` as a person would (the step slider), and wait until it is drawn."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise PictureError("stopped: the export took too long (draw fewer slides, or smaller steps)")
        self.page.evaluate("""n => { const s = document.getElementById("slider");
            s.value = n; s.dispatchEvent(new Event("input")); }""", step)
        self._wait_drawn(step)

    def _wait_drawn(self, step: int) -> None:
        try:
            self.page.wait_for_function(
                """n => { const st = window.pyronaViewer && window.pyronaViewer.state;
                  const stage = document.getElementById("stage");
                  return st && st.view && st.view.index === n && stage.dataset.step === String(n)
                    && stage.querySelector("svg") && document.getElementById("render-state").hidden; }""",
                arg=step, timeout=DRAW_TIMEOUT_MS)
        except Exception as exc:
            problem = self.page.text_content("#stage") or ""
            raise PictureError(f"step {step} could not be drawn: "
                               f"{'; '.join(self._errors) or problem.strip() or exc}") from None
        if self.present:
            self.page.keyboard.press("f")  # (fit: the viewer's key)
        self.page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")

    def png(self) -> bytes:
        return self.page.screenshot(type="png")

    def svg(self) -> str:
        """The diagram shown, as a standalone SVG document (well-formed XML)."""
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + self.page.evaluate(
            """() => new XMLSerializer().serializeToString(document.querySelector("#stage svg"))""") + "\n"

    def slides(self, steps: list[int]) -> list[Slide]:
        shots = []
        for step in steps:
            self.show(step)
            shots.append(Slide(step, self.png()))
        return shots

    def pdf(self, slides: list[Slide]) -> bytes:
        """The slides as a PDF, one a page the slide's size, printed by Chromium."""
        width, height = self.size
        pages = "".join(f'<img src="data:image/png;base64,{base64.b64encode(s.png).decode()}" '
                        f'alt="step {s.step}">' for s in slides)
        page = self.page.context.new_page()
        try:
            page.set_content(
                f"<!doctype html><style>@page {{ size: {width}px {height}px; margin: 0 }} "
                f"html, body {{ margin: 0 }} img {{ display: block; width: {width}px; height: {height}px; "
                f"break-after: page }} img:last-child {{ break-after: auto }}</style>{pages}")
            return page.pdf(width=f"{width}px", height=f"{height}px", print_background=True,
                            margin={"top": "0", "right": "0", "bottom": "0", "left": "0"})
        finally:
            page.close()


def gif(slides: list[Slide], frame_ms: int = GIF_FRAME_MS) -> bytes:
    """An animated GIF of the slides, looping, each up for `frame_ms`."""
    from PIL import Image

    frames = [Image.open(io.BytesIO(s.png)).convert("RGB") for s in slides]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=frame_ms,
                   loop=0, optimize=False)
    return out.getvalue()
