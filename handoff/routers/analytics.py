"""The city's analytics page (admins only): what citizens asked and how the bot did, as charts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from analytics import charts
from analytics.metrics import Analytics, compute
from analytics.settings import AnalyticsSettings
from handoff.deps import SESSION_COOKIE, AccountsDep, SessionDep, SettingsDep
from handoff.errors import NotAllowed, NotAuthenticated
from handoff.routers.console import login_page, templates

router = APIRouter(tags=["analytics"])
MAX_DAYS = 366


def _figures(settings_url: str, days: int) -> Analytics:
    where = AnalyticsSettings()
    return compute(where.tracker(), settings_url, where.database_url, days=days)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"


def _minutes(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} min"


def _page_context(figures: Analytics) -> dict[str, Any]:
    return {
        "figures": figures,
        "tiles": [("Conversations", str(figures.conversations)),
                  ("Resolved without a person", _percent(figures.containment)),
                  ("Handed to a person", _percent(figures.handoff_rate)),
                  ("Not understood", _percent(figures.fallback_rate)),
                  ("Wait for an agent (median / 90%)", f"{_minutes(figures.wait_median)} / "
                                                      f"{_minutes(figures.wait_p90)}"),
                  ("Waiting now", str(figures.waiting_now)),
                  ("“Did this help?” yes", f"{_percent(figures.satisfaction)} of "
                                            f"{figures.helpful + figures.not_helpful}")],
        "daily": charts.daily("Conversations and messages per day", {
            "conversations": figures.conversations_per_day, "messages": figures.messages_per_day}),
        "channels": charts.bars("Conversations by channel", figures.by_channel.most_common()),
        "languages": charts.bars("Conversations by language", figures.by_language.most_common()),
        "intents": charts.bars("What citizens asked (top intents)", figures.intents.most_common(10)),
        "categories": charts.bars("Reports filed, by category", figures.categories.most_common(10)),
        "satisfaction": charts.bars("Did this help?", [("yes", figures.helpful), ("no", figures.not_helpful)]),
    }


@router.get("/console/analytics", response_class=HTMLResponse, include_in_schema=False)
async def analytics_page(request: Request, settings: SettingsDep, accounts: AccountsDep,
                         days: int = 30) -> HTMLResponse:
    try:
        session = accounts.session(request.cookies.get(SESSION_COOKIE, ""))
    except NotAuthenticated:
        return login_page(request, settings, status_code=401)
    if session.account.role != "admin":
        return HTMLResponse("<!doctype html><title>Not allowed</title><p>Only an admin can see the analytics.</p>",
                            status_code=403)
    days = min(max(days, 1), MAX_DAYS)
    figures = await run_in_threadpool(_figures, settings.database_url, days)
    context = {"title": "Analytics", "city": settings.city_name, "days": days, **_page_context(figures)}
    return templates.TemplateResponse(request, "analytics.html", context)


@router.get("/api/admin/analytics")
async def analytics_data(session: SessionDep, settings: SettingsDep, days: int = 30) -> dict[str, Any]:
    if session.account.role != "admin":
        raise NotAllowed("only an admin can see the analytics")
    figures = await run_in_threadpool(_figures, settings.database_url, min(max(days, 1), MAX_DAYS))
    return figures.as_dict()
