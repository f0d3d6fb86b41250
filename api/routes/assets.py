"""Static assets: our own CSS/JS from api/static, and third-party browser libraries from node_modules/.

Third-party code is never copied into the repository: `make install` runs `npm ci` (package.json,
package-lock.json) and this module serves the one file each page needs at /static/vendor/NAME. When
node_modules/ is missing the vendor path answers 503 saying how to install it, and the graph page says so too.
"""
import mimetypes
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse

from kg.config import ROOT

router = APIRouter(include_in_schema=False)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
VENDOR = {"cytoscape.min.js": "cytoscape/dist/cytoscape.min.js",
          "swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
          "swagger-ui.css": "swagger-ui-dist/swagger-ui.css"}
CACHE = {"Cache-Control": "public, max-age=3600"}


def node_modules(request: Request) -> Path:
    return Path(request.app.state.settings.extra.get("node_modules", ROOT / "node_modules"))


def vendor_path(request: Request, name: str) -> Path | None:
    """The installed file behind /static/vendor/NAME, or None when it is not installed."""
    rel = VENDOR.get(name)
    if rel is None:
        return None
    path = node_modules(request) / rel
    return path if path.is_file() else None


@router.get("/static/vendor/{name}")
def vendor(request: Request, name: str):
    if name not in VENDOR:
        raise HTTPException(404, f"no vendor file {name!r}; available: {', '.join(VENDOR)}")
    path = vendor_path(request, name)
    if path is None:
        raise HTTPException(503, f"{name} is not installed: {node_modules(request) / VENDOR[name]} is missing; "
                                 "run `make install` (it runs `npm ci` at the repository root)")
    media = "text/css" if name.endswith(".css") else "text/javascript"
    return FileResponse(path, media_type=media, headers=CACHE)


@router.get("/static/{name:path}")
def static(name: str):
    path = (STATIC_DIR / name).resolve()
    if not path.is_relative_to(STATIC_DIR) or not path.is_file():
        raise HTTPException(404, f"no static file {name!r}")
    media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix == ".js":
        media = "text/javascript"
    return FileResponse(path, media_type=media, headers=CACHE)
