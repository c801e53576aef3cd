"""What browser clients from another origin need: CORS (off by default), preflights without the
token, Allow with every method of a path, OPTIONS, the $-operations, the 415 wording."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
import requests
from starlette.testclient import TestClient

from dicomweb_nb import LocalServer, samples
from dicomweb_nb.cli import build_parser
from dicomweb_nb.server.app import create_app
from dicomweb_nb.server.cors import parse_origins

from .helpers import JSON, free_port, multipart, serve

PAGE = "http://127.0.0.1:3000"
S = samples.STUDY_UID


def _preflight(
    url: str, method: str = "POST", headers: str = "", origin: str = PAGE
) -> requests.Response:
    asked = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        asked["Access-Control-Request-Headers"] = headers
    return requests.options(url, headers=asked)


def test_no_cors_by_default(server: LocalServer) -> None:
    r = requests.get(f"{server.url}/studies", headers={**JSON, "Origin": PAGE})
    assert r.status_code == 204
    assert not [h for h in r.headers if h.lower().startswith("access-control-")]
    r = _preflight(f"{server.url}/studies")
    # Not a CORS answer: an OPTIONS like any other, with the path's methods.
    assert r.status_code == 204 and "access-control-allow-origin" not in r.headers
    assert r.headers["Allow"] == "GET, HEAD, POST, OPTIONS"


def test_preflight_needs_no_token_and_answers_204(tmp_path: Path, tutorial_dir: Path) -> None:
    with LocalServer(tmp_path / "d", token="s3cret", cors=PAGE) as server:
        r = _preflight(f"{server.url}/studies", "POST", "authorization,content-type,accept")
        assert r.status_code == 204 and r.content == b""
        assert r.headers["Access-Control-Allow-Origin"] == PAGE
        assert r.headers["Access-Control-Allow-Credentials"] == "true"
        assert set(r.headers["Access-Control-Allow-Methods"].split(", ")) == {
            "GET",
            "POST",
            "DELETE",
            "OPTIONS",
        }
        allowed = {h.strip().lower() for h in r.headers["Access-Control-Allow-Headers"].split(",")}
        assert {"accept", "content-type", "authorization", "if-none-match"} <= allowed
        assert "content-length" not in r.headers or r.headers["content-length"] == "0"
        # The actual request still needs the token, and its refusal is readable by the page.
        r = requests.get(f"{server.url}/studies", headers={**JSON, "Origin": PAGE})
        assert r.status_code == 401 and r.headers["Access-Control-Allow-Origin"] == PAGE
        auth = {"Authorization": "Bearer s3cret", "Origin": PAGE}
        body, content_type = multipart(
            [(tutorial_dir / n).read_bytes() for n in samples.TUTORIAL_FILES]
        )
        stored = requests.post(
            f"{server.url}/studies", body, headers={**JSON, **auth, "Content-Type": content_type}
        )
        assert stored.status_code == 200
        assert stored.headers["Access-Control-Allow-Origin"] == PAGE
        exposed = {h.strip() for h in stored.headers["Access-Control-Expose-Headers"].split(",")}
        assert {"Content-Type", "Content-Length", "ETag", "Warning", "Location"} <= exposed
        meta = requests.get(f"{server.url}/studies/{S}/metadata", headers={**JSON, **auth})
        assert meta.headers["ETag"] and meta.headers["Vary"] == "Origin"


def test_refused_preflights_name_what_was_refused(tmp_path: Path) -> None:
    with LocalServer(tmp_path / "d", cors=[PAGE, "http://localhost:3000/"]) as server:
        assert server.cors == (PAGE, "http://localhost:3000")
        assert (
            _preflight(f"{server.url}/studies", origin="http://localhost:3000").status_code == 204
        )
        r = _preflight(f"{server.url}/studies", origin="http://elsewhere:3000")
        assert r.status_code == 400 and "origin" in r.text
        assert "access-control-allow-origin" not in r.headers
        r = _preflight(f"{server.url}/studies", method="PUT")
        assert r.status_code == 400 and "method" in r.text
        r = _preflight(f"{server.url}/studies", headers="x-secret")
        assert r.status_code == 400 and "headers" in r.text
        # A request from an origin not listed is served, without CORS headers: the browser
        # keeps the answer from the page.
        r = requests.get(f"{server.url}/studies", headers={**JSON, "Origin": "http://elsewhere"})
        assert r.status_code == 204 and "access-control-allow-origin" not in r.headers


def test_any_origin_without_credentials(tmp_path: Path) -> None:
    with LocalServer(tmp_path / "d", cors="*") as server:
        r = _preflight(f"{server.url}/studies", "GET", "authorization")
        assert r.status_code == 204 and r.headers["Access-Control-Allow-Origin"] == "*"
        assert "access-control-allow-credentials" not in r.headers
        r = requests.get(f"{server.url}/studies", headers={**JSON, "Origin": "http://x.test"})
        assert r.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize(
    ("given", "origins"),
    [
        (None, ()),
        ("", ()),
        ("*", ("*",)),
        (" * ", ("*",)),
        ("HTTP://LocalHost:3000/", ("http://localhost:3000",)),
        ("http://a:80,https://b:443,http://a", ("http://a", "https://b")),
        (["http://[::1]:8000"], ("http://[::1]:8000",)),
    ],
)
def test_parse_origins(given: str | list[str] | None, origins: tuple[str, ...]) -> None:
    assert parse_origins(given) == origins


@pytest.mark.parametrize(
    "bad", ["localhost:3000", "http://a/viewer", "ftp://a", "http://a?x=1", "*,http://a", "http://"]
)
def test_parse_origins_refuses(bad: str) -> None:
    with pytest.raises(ValueError, match="origin"):
        parse_origins(bad)


def test_cli_cors(tmp_path: Path) -> None:
    args = build_parser().parse_args(["serve", "--cors", "http://localhost:3000,http://a:8"])
    assert args.cors == ("http://localhost:3000", "http://a:8")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--cors", "localhost:3000"])
    port = free_port()
    proc = serve(tmp_path, port, "--cors", PAGE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/v1/studies"
        for _ in range(300):
            try:
                r = _preflight(url, "GET", "accept")
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        else:
            pytest.fail("dicomweb-nb serve did not start")
        assert r.status_code == 204 and r.headers["Access-Control-Allow-Origin"] == PAGE
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    return TestClient(create_app(tmp_path_factory.mktemp("d")))


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/v1/studies", "GET, HEAD, POST, OPTIONS"),
        ("/v2/studies/1.2", "GET, HEAD, POST, DELETE, OPTIONS"),
        ("/v1/studies/1.2/series/3", "GET, HEAD, DELETE, OPTIONS"),
        ("/v1/studies/1.2/series/3/instances/4", "GET, HEAD, DELETE, OPTIONS"),
        ("/v1/studies/1.2/metadata", "GET, HEAD, OPTIONS"),
        ("/v1/series", "GET, HEAD, OPTIONS"),
        ("/v1/changefeed", "GET, HEAD, OPTIONS"),
        ("/health/check", "GET, HEAD, OPTIONS"),
    ],
)
def test_allow_lists_every_method_of_the_path(client: TestClient, path: str, allow: str) -> None:
    r = client.put(path, headers=JSON)
    assert r.status_code == 405 and r.headers["Allow"] == allow
    assert "PUT" in r.text and allow in r.text
    r = client.options(path)
    assert r.status_code == 204 and r.headers["Allow"] == allow and r.content == b""


@pytest.mark.parametrize("method", ["POST", "GET", "DELETE"])
@pytest.mark.parametrize("operation", ["$bulkupdate", "$bulkUpdate"])
def test_reference_operations_are_a_clear_404(
    client: TestClient, method: str, operation: str
) -> None:
    # The reference's Postman collection posts JSON without Accept: no 406, no UID error.
    r = client.request(method, f"/v2/studies/{operation}", json={"studyInstanceUids": ["1.2"]})
    assert r.status_code == 404
    assert operation in r.text and "not offered" in r.text and "UID" not in r.text


def test_unknown_operation_is_a_404(client: TestClient) -> None:
    r = client.get("/v1/studies/$export", headers=JSON)
    assert r.status_code == 404 and "no operation $export" in r.text
    # Anything else that is no UID is still the reference's 400.
    assert client.get("/v1/studies/1.2.x", headers={"Accept": "*/*"}).status_code == 400


def test_missing_content_type_is_named(client: TestClient) -> None:
    r = client.post("/v1/studies", content=b"x", headers=JSON)
    assert r.status_code == 415
    assert "None" not in r.text and "no Content-Type" in r.text
    r = client.post("/v1/studies", content=b"x", headers={**JSON, "Content-Type": "text/plain"})
    assert r.status_code == 415 and "'text/plain'" in r.text
