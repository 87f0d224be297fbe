"""The service API the bot calls: queue a packet, relay a citizen's message, export a transcript."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from handoff import transcript
from handoff.client import OUTBOX_HEADER
from handoff.deps import ServiceDep, require_service_token
from handoff.errors import InvalidHandoff
from handoff.packet import MAX_TEXT, ContextPacket

router = APIRouter(prefix="/api", dependencies=[Depends(require_service_token)], tags=["service"])


class CitizenMessage(BaseModel):
    message_id: str = Field(..., min_length=1, max_length=128)
    text: str = Field(..., max_length=MAX_TEXT * 4)
    timestamp: datetime | None = None
    language: str | None = Field(None, max_length=8)
    intent: str | None = Field(None, max_length=64)


@router.post("/handoffs", status_code=201)
async def create_handoff(
    request: Request,
    service: ServiceDep,
    tasks: BackgroundTasks,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    if not idempotency_key or len(idempotency_key) > 128:
        raise InvalidHandoff("the Idempotency-Key header (1-128 characters) is required")
    try:
        packet = ContextPacket.parse_raw(await request.body())
    except ValidationError as exc:
        raise InvalidHandoff(f"not a valid context packet: {exc.errors()[:5]}") from exc
    # Database work off the event loop: a burst of escalations must not hold up the live console.
    handoff, created = await run_in_threadpool(service.create, packet, idempotency_key)
    request.app.state.notifier.notify()
    from_outbox = request.headers.get(OUTBOX_HEADER) == "outbox"
    if created or from_outbox:  # after the answer: the bot's escalation does not wait for it
        tasks.add_task(service.after_create, handoff, from_outbox)
    position = await run_in_threadpool(service.store.position, handoff.reference)
    body = {
        "reference": handoff.reference,
        "status": handoff.status,
        "position": position,
        "urgency": handoff.urgency,
        "created_at": handoff.created_at.isoformat(),
        "created": created,
    }
    return JSONResponse(body, status_code=201 if created else 200, background=tasks)


@router.post("/conversations/{conversation_id}/messages", status_code=202)
async def citizen_message(
    conversation_id: str, message: CitizenMessage, request: Request, service: ServiceDep
) -> JSONResponse:
    text = message.text[:MAX_TEXT]
    stored, new = await run_in_threadpool(service.citizen_message, conversation_id, message.message_id, text,
                                          message.timestamp, message.language, message.intent)
    request.app.state.notifier.notify()
    body = {"reference": stored.reference, "message_id": stored.message_id}
    return JSONResponse(body, status_code=202 if new else 200)


@router.get("/handoffs/{reference}/transcript")
async def service_transcript(reference: str, service: ServiceDep) -> dict[str, Any]:
    """For the city's systems (analytics, archives): always redacted."""
    return transcript.export(service.store, reference, redacted=True)
