"""A real browser (headless Debian chromium) opens the page of Minamata Article 11."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (scripts/system-deps.sh)")
def test_the_page_of_minamata_article_11_links_to_the_basel_convention(server, http, tmp_path):
    # The links the store holds from Article 11 (or its paragraphs) into the Basel Convention.
    article = http.get("/api/articles/minamata/11").json()
    to_basel = [
        link
        for link in article["linksOut"]
        if (link["targetConvention"] or {}).get("id") == "basel"
    ]
    if not to_basel:
        pytest.skip("the data has no link yet from Minamata Article 11 to the Basel Convention")
    completed = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
         f"{server.url}/id/minamata/article/11"],
        capture_output=True,
        text=True,
        timeout=90,
    )  # fmt: skip
    dom = completed.stdout
    assert "Mercury wastes" in dom, completed.stderr[-2000:]
    hrefs = set(re.findall(r'href="([^"]+)"', dom))
    for link in to_basel:
        assert "/id/" + link["target"]["id"] in hrefs
    assert "/id/basel" in hrefs
