"""The web app: the citizens' web chat page (later also the agent console and Open311 API)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import Response

from web.settings import WebSettings, get_settings

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))

SettingsDep = Annotated[WebSettings, Depends(get_settings)]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class SecurityHeaders(BaseHTTPMiddleware):
    """A strict content security policy: scripts and styles only from this app."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        rasa = _origin(get_settings().rasa_public_url)
        websocket = rasa.replace("http://", "ws://").replace("https://", "wss://")
        response.headers["Content-Security-Policy"] = (
            f"default-src 'self'; connect-src 'self' {rasa} {websocket}; img-src 'self' data:; "
            "style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response


def create_app() -> FastAPI:
    app = FastAPI(title="City citizen support", docs_url=None, redoc_url=None)
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def chat_page(request: Request, settings: SettingsDep) -> HTMLResponse:
        return templates.TemplateResponse(
            request,
            "chat.html",
            {
                "rasa_url": settings.rasa_public_url,
                "city_name": settings.city_name,
                "emergency_number": settings.emergency_number,
            },
        )

    @app.get("/health", include_in_schema=False)
    async def health() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return app


app = create_app()
