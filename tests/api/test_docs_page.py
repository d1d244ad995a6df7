"""``/docs`` in a real browser (headless Debian Chromium driven by Playwright), offline.

The service documents itself in OpenAPI 3.1; the page must render it with the Swagger UI the service
serves itself: every request the page makes to another host is refused by the test (as on a machine
without Internet access) and recorded, and the test reads the operations off the rendered page. ``/redoc``
(which loads its script from a CDN) is not offered.
"""
from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest

from support.browser import chromium, chromium_missing
from support.servers import Service

pytestmark = pytest.mark.skipif(chromium_missing(), reason="Debian chromium not installed")


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    root = tmp_path_factory.mktemp("docs")
    svc = Service(root / "data", workers=0)
    yield svc.start()
    svc.stop()


def test_docs_render_the_openapi_31_document_offline(service):
    spec = httpx.get(service.url + "openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    operations = {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}
    assert ("POST", "/api/v1/submissions") in operations and len(operations) >= 8
    origin = urlsplit(service.url).netloc
    outside, errors = [], []

    def only_the_service(route):
        if urlsplit(route.request.url).netloc == origin:
            route.continue_()
        else:                                       # no Internet: a CDN is unreachable
            outside.append(route.request.url)
            route.abort("internetdisconnected")

    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 1600})
        page.route("**/*", only_the_service)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(service.url + "docs")
        page.wait_for_selector(".opblock", timeout=30_000)
        page.wait_for_function(f"document.querySelectorAll('.opblock').length >= {len(operations)}",
                               timeout=30_000)
        body = page.inner_text("body")
        listed = set()
        for block in page.locator(".opblock").all():
            method = block.locator(".opblock-summary-method").inner_text().strip().upper()
            path = block.locator(".opblock-summary-path").inner_text().strip().replace("\u200b", "")
            listed.add((method, path))
        title = page.locator(".info .title").inner_text()
        # one operation opens and shows its documented answers (the error shape included)
        page.locator("#operations-submissions-get_submission_api_v1_submissions__submission_id__get "
                     ".opblock-summary").click()
        page.wait_for_selector("#operations-submissions-get_submission_api_v1_submissions__submission_id__get "
                               ".responses-table", timeout=10_000)
        answers = page.locator("#operations-submissions-get_submission_api_v1_submissions__submission_id__get "
                               ".responses-table").inner_text()
    assert "Unable to render this definition" not in body
    assert spec["info"]["title"] in title
    assert listed == operations, (sorted(operations - listed), sorted(listed - operations))
    assert "404" in answers and "422" in answers
    assert outside == [], outside
    assert errors == [], errors


def test_redoc_which_needs_a_cdn_is_not_offered(service):
    assert httpx.get(service.url + "redoc").status_code == 404
    docs = httpx.get(service.url + "docs").text
    assert "cdn" not in docs.lower() and "https://" not in docs
