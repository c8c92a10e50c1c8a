"""The front page at / says where to sign in and what a web chat link is."""

from __future__ import annotations

from bot.services import Services
from tests.review.helpers import client


async def test_the_home_page_links_the_review_sign_in_and_explains_web_chat_links(
    services: Services,
) -> None:
    async with client(services) as http:
        page = await http.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<a href="/review/sign-in">Sign in to the review workspace</a>' in page.text
    assert "personal web chat link" in page.text and "<main" in page.text
    assert '"detail"' not in page.text
