"""The web app: the citizens' web chat page and the city's Open311 GeoReport v2 server (open311/api.py).

The agent console is the handoff service's (handoff/app.py).
"""

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

from bot.connectors.media import get_media_settings
from open311 import api as open311_api
from web.deps import SettingsDep
from web.settings import get_settings
from web.translations import PageText, bold, get_page_text

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters["bold"] = bold

PageTextDep = Annotated[PageText, Depends(get_page_text)]


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
    # Photos citizens sent on WhatsApp or Telegram, linked from their service requests (bot/connectors/media.py).
    media = get_media_settings().media_dir
    media.mkdir(parents=True, exist_ok=True)
    app.mount("/media", StaticFiles(directory=str(media)), name="media")
    app.include_router(open311_api.router)
    open311_api.add_exception_handlers(app)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def chat_page(request: Request, settings: SettingsDep, page_text: PageTextDep) -> HTMLResponse:
        # The browser's Accept-Language picks the words the page arrives in; chat.js then applies
        # the citizen's earlier choice, if any, and offers the others.
        language = page_text.preferred(request.headers.get("accept-language"))
        values = {"city": settings.city_name, "number": settings.emergency_number}
        texts = {code: page_text.filled(code, values) for code in page_text.names}
        chat_config = {
            "rasaUrl": settings.rasa_public_url,
            "defaultLanguage": page_text.default,
            "languages": page_text.names,
            "text": texts,
        }
        return templates.TemplateResponse(
            request,
            "chat.html",
            {
                "language": language,
                "languages": page_text.names,
                "text": texts[language],
                "chat_config": chat_config,
            },
        )

    @app.get("/health", include_in_schema=False)
    async def health() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return app


app = create_app()
