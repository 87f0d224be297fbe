"""The messaging-app channels inside the real Rasa server (their full conversations: issue 7, to come)."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("channel", ["telegram", "whatsapp", "twilio_whatsapp"])
def test_an_unconfigured_messaging_channel_loads_and_answers_503_not_500(stack, channel):
    url = f"{stack.settings.rasa_public_url()}/webhooks/{channel}/webhook"
    response = httpx.post(url, content=b'{"update_id": 1}', headers={"Content-Type": "application/json"},
                          timeout=10)
    assert response.status_code == 503, response.text
    assert "not configured" in response.text
