"""The served docs: reachable without a token, complete, and in step with the routes and the code."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from controller.app import create_app, is_public
from controller.core import errors
from controller.core.settings import Settings
from controller.docs import routes as docs
from controller.jobs import spec as jobspec

ROOT = Path(__file__).resolve().parents[3]

#: Every served document and the content type it must answer with.
DOC_TYPES = {
    "/skill.md": "text/markdown",
    "/llms.txt": "text/plain",
    "/llms-full.txt": "text/plain",
    "/docs": "text/html",
    "/api/v1/docs": "application/json",
    "/api/v1/docs/recipes": "application/json",
    "/api/v1/docs/python-sdk": "application/json",
    "/api/v1/docs/workflows": "application/json",
    "/api/v1/docs/security": "application/json",
    "/api/v1/docs/openapi.json": "application/json",
}


def with_docs_routes(app: web.Application) -> web.Application:
    """Register the docs routes unless the app already does."""
    if not any(
        route.resource is not None and route.resource.canonical == "/api/v1/docs" for route in app.router.routes()
    ):
        app.add_routes(docs.routes)
    return app


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path) -> Any:
    return await aiohttp_client(with_docs_routes(create_app(Settings(data_dir=tmp_path), background=False)))


def app_routes(app: web.Application) -> set[tuple[str, str]]:
    """(method, path) of every client-facing route: no HEAD twins, no agent-internal routes."""
    found = set()
    for route in app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if route.method == "HEAD" or path.startswith("/api/v1/agent/"):
            continue
        found.add((route.method, path))
    return found


def documented_routes() -> set[tuple[str, str]]:
    return {(method, path) for method, path, _, _ in docs.ENDPOINTS}


def concrete(path: str) -> str:
    """A path with each `{placeholder}` filled in."""
    return re.sub(r"\{[^}]+\}", "x", path)


def error_codes() -> set[str]:
    """The `code` of every error class in controller/core/errors.py."""
    return {
        cls.code
        for cls in vars(errors).values()
        if inspect.isclass(cls) and issubclass(cls, errors.ComputalotError) and cls.__module__ == errors.__name__
    }


def endpoint_rows(text: str) -> set[tuple[str, str]]:
    """(method, path) of each row of the "## Endpoints" table."""
    section = text.split("\n## Endpoints\n", 1)[1]
    return set(re.findall(r"^\| (GET|POST|PUT|DELETE|PATCH) \| `([^`]+)` \|", section, flags=re.MULTILINE))


@pytest.mark.parametrize("path", sorted(DOC_TYPES))
async def test_each_doc_answers_without_a_token(client: Any, path: str) -> None:
    # Given no Authorization header
    # When a document is requested
    response = await client.get(path)

    # Then it answers 200 with its content type and real content
    assert response.status == 200
    assert response.content_type == DOC_TYPES[path]
    body = await response.text()
    assert len(body) > 1000


@pytest.mark.parametrize("path", sorted(docs.GUIDES))
async def test_each_guide_is_json_wrapped_markdown(client: Any, path: str) -> None:
    # When a guide is requested
    data = await (await client.get(path)).json()

    # Then it is {title, format, content} with markdown content under a heading
    assert set(data) == {"title", "format", "content"}
    assert data["format"] == "markdown"
    assert data["title"] == docs.GUIDES[path][1]
    assert data["content"].startswith("# ")


async def test_the_json_index_lists_every_doc_and_endpoint(client: Any) -> None:
    # When the index is requested
    data = await (await client.get("/api/v1/docs")).json()

    # Then it names the server and lists every served document and documented endpoint
    assert data["name"] == "Computalot"
    assert isinstance(data["version"], str) and data["version"]
    assert {d["path"] for d in data["docs"]} == set(DOC_TYPES)
    assert all(set(d) == {"path", "title", "format"} and d["title"] for d in data["docs"])
    assert [(e["method"], e["path"], e["auth"], e["summary"]) for e in data["endpoints"]] == list(docs.ENDPOINTS)


async def test_every_route_of_the_app_is_documented(client: Any) -> None:
    # Given the routes the app serves
    served = app_routes(client.app)

    # Then each one is in the documented endpoint list
    assert served - documented_routes() == set(), "add these routes to controller.docs.routes.ENDPOINTS and llms.txt"


async def test_every_documented_endpoint_exists(client: Any) -> None:
    # Given the documented endpoints
    # Then the app serves each one
    assert documented_routes() - app_routes(client.app) == set(), "these documented routes do not exist"


def test_documented_endpoints_are_unique() -> None:
    assert len(documented_routes()) == len(docs.ENDPOINTS)


@pytest.mark.parametrize(("method", "path", "auth"), [(m, p, a) for m, p, a, _ in docs.ENDPOINTS])
def test_the_auth_flag_matches_the_apps_public_paths(method: str, path: str, auth: bool) -> None:
    # Given a request to the endpoint
    request = make_mocked_request(method, concrete(path))

    # Then the app asks for a token exactly when the docs say so
    assert (not is_public(request)) == auth


@pytest.mark.parametrize(("method", "path"), [(m, p) for m, p, a, _ in docs.ENDPOINTS if a])
async def test_protected_endpoints_answer_401_without_a_token(client: Any, method: str, path: str) -> None:
    # When a protected endpoint is called without a token
    response = await client.request(method, concrete(path))

    # Then it answers 401 unauthorized
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("name", ["llms.txt.md", "llms-full.txt.md"])
def test_the_llms_endpoint_table_matches_the_endpoint_list(name: str) -> None:
    # Given the endpoint table of the document
    rows = endpoint_rows(docs.read_doc(name))

    # Then it lists exactly the documented endpoints
    assert rows == documented_routes()


@pytest.mark.parametrize("name", ["llms.txt.md", "llms-full.txt.md"])
def test_llms_mentions_every_job_field(name: str) -> None:
    text = docs.read_doc(name)
    assert {f for f in jobspec.KNOWN_FIELDS if f"`{f}`" not in text} == set()


@pytest.mark.parametrize("name", ["llms.txt.md", "llms-full.txt.md"])
def test_llms_mentions_every_error_code(name: str) -> None:
    text = docs.read_doc(name)
    codes = error_codes()
    assert {"validation_failed", "invalid_fan_out", "no_capable_workers", "internal_error"} <= codes
    assert {c for c in codes if f"`{c}`" not in text} == set()


@pytest.mark.parametrize("name", ["llms.txt.md", "llms-full.txt.md", "skill.md"])
def test_docs_name_every_runner_environment_variable(name: str) -> None:
    # Given the variables the agent sets for a task
    source = (ROOT / "agent" / "runner.py").read_text() + (ROOT / "agent" / "worker.py").read_text()
    variables = set(re.findall(r'"(COMPUTALOT_[A-Z_]+)"', source))
    assert {"COMPUTALOT_TASK_PAYLOAD", "COMPUTALOT_TASK_RESULT", "COMPUTALOT_CHECKPOINT_DIR"} <= variables

    # Then the document names each of them, and the progress prefix
    text = docs.read_doc(name)
    assert {v for v in variables if v not in text} == set()
    assert "COMPUTALOT_PROGRESS:" in text


def test_the_full_reference_contains_the_tutorials() -> None:
    headings = set(re.findall(r"^## Tutorial: (.+)$", docs.read_doc("llms-full.txt.md"), flags=re.MULTILINE))
    assert headings == {
        "a parameter sweep by hand with `by`",
        "chunks over a seed range with `batch_size`",
        "failures and retries",
        "cancel",
    }


def test_the_skill_file_has_front_matter() -> None:
    text = docs.read_doc("skill.md")
    front, _, body = text.removeprefix("---\n").partition("\n---\n")
    fields = dict(line.split(": ", 1) for line in front.splitlines())
    assert fields["name"] == "computalot"
    assert len(fields["description"]) > 40
    assert body.strip()


def test_quickstart_json_bodies_are_valid_json() -> None:
    # Given every single-quoted JSON body passed to curl -d in the docs
    for name in ("llms.txt.md", "llms-full.txt.md", "skill.md"):
        bodies = re.findall(r"-d '(\{.*?\})'", docs.read_doc(name), flags=re.DOTALL)
        assert bodies, name
        # Then each parses
        for body in bodies:
            json.loads(body)


async def test_the_html_page_renders_the_full_reference_and_guides(client: Any) -> None:
    # When /docs is requested
    page = await (await client.get("/docs")).text()

    # Then it is one self-contained page with a nav entry per section and no raw Markdown or template markers
    assert page.startswith("<!doctype html>")
    assert "{{" not in page and "```" not in page
    assert not re.search(r"<(script|link)\b", page) and "src=" not in page
    for title in re.findall(r"^## (.+)$", docs.read_doc("llms-full.txt.md"), flags=re.MULTILINE):
        assert f">{docs._inline(title)}</a>" in page
    for path in docs.GUIDES:
        assert f'id="guide-{path.rsplit("/", 1)[-1]}"' in page
    assert "<table>" in page and "<pre><code>" in page


def test_the_markdown_renderer_handles_the_subset_the_docs_use() -> None:
    text = "\n".join(
        [
            "# Title",
            "",
            "Some *emphasis*, **bold**, `a<b>` and [a link](/x).",
            "",
            "- one",
            "  continued",
            "- two",
            "",
            "3. third",
            "",
            "| A | B |",
            "|---|---|",
            "| `x` | 2 |",
            "",
            "## Part",
            "",
            "   ```json",
            '   {"k": "<v>"}',
            "   ```",
        ]
    )
    html, sections = docs.markdown_to_html(text)
    assert '<h1 id="title">Title</h1>' in html
    assert "<em>emphasis</em>" in html and "<strong>bold</strong>" in html
    assert "<code>a&lt;b&gt;</code>" in html and '<a href="/x">a link</a>' in html
    assert "<ul>\n<li>one continued</li>\n<li>two</li>\n</ul>" in html
    assert '<ol start="3">\n<li>third</li>\n</ol>' in html
    assert "<thead><tr><th>A</th><th>B</th></tr></thead>" in html
    assert "<pre><code>{&quot;k&quot;: &quot;&lt;v&gt;&quot;}</code></pre>" in html
    assert sections == [("part", "Part")]


async def test_the_recipes_guide_lists_this_servers_catalog(client: Any) -> None:
    # Given the installed recipes
    catalog = await (await client.get("/api/v1/docs/recipes")).json()

    # Then the guide ends with them (or says none is installed)
    assert "## Installed on this server" in catalog["content"]
    assert catalog["content"].rstrip().endswith(docs.recipe_catalog().rstrip())
