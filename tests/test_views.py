"""views.py: the editor page, its hashed static URLs and /api/highlight."""

import re


def test_page_links_only_hashed_files_of_the_host(client):
    page = client.get("/").get_data(as_text=True)
    urls = re.findall(
        r'(?:src|href)="([^#"][^"]*)"', page
    )  # "#editor-host" (the skip link) loads nothing
    assert urls
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
        assert "?_hash=" in url, url
        response = client.get(url)
        response.close()
        assert response.status_code == 200, url


def test_import_map_points_every_module_at_its_hash(client):
    page = client.get("/").get_data(as_text=True)
    assert '"/static/js/main.js": "/static/js/main.js?_hash=' in page
    assert '"/static/js/editor.js": "/static/js/editor.js?_hash=' in page


def test_highlight(client):
    response = client.post("/api/highlight", json={"code": "x = 1\n", "language": "python"})
    assert response.status_code == 200
    assert response.json["html"] == (
        '<span class="n">x</span> <span class="o">=</span> <span class="mi">1</span>\n'
    )


def test_highlight_wants_json(client):
    response = client.post("/api/highlight", data="x = 1")
    assert response.status_code == 400
    assert response.json["error"]["code"] == "bad_request"


def test_highlight_refuses_huge_text(app, client):
    code = "x" * (app.config["MAX_BODY_BYTES"] + 1)
    response = client.post("/api/highlight", json={"code": code, "language": "text"})
    assert response.status_code == 413
