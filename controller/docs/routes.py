"""Documentation routes: the HTML page at /docs, the JSON index at /api/v1/docs and the JSON-wrapped guides.

The plain-text documents (/skill.md, /llms.txt, /llms-full.txt) are served as they are.
Every source lives in `controller/docs/` and is read with `importlib.resources`.
"""

from __future__ import annotations

import html
import re
from importlib import metadata, resources
from typing import Any

from aiohttp import web

from controller.core.web import json_response
from recipes import registry

routes = web.RouteTableDef()

#: served document path -> file under controller/docs/
DOCS = {
    "/skill.md": ("skill.md", "text/markdown"),
    "/llms.txt": ("llms.txt.md", "text/plain"),
    "/llms-full.txt": ("llms-full.txt.md", "text/plain"),
}


def doc_text(name: str) -> str:
    return resources.files("controller").joinpath("docs", name).read_text(encoding="utf-8")


#: Every client-facing route: (method, path as the router spells it, needs a token, summary).
#: Agent-internal routes under /api/v1/agent/ are left out. tests/controller/docs/test_docs.py checks this list
#: against the app's router both ways, and against the endpoint table of llms.txt.
ENDPOINTS: tuple[tuple[str, str, bool, str], ...] = (
    ("GET", "/health", False, "Liveness probe"),
    ("GET", "/live", False, "Liveness probe (same as /health)"),
    ("GET", "/ready", False, "Readiness: 503 until the database, broker and event hub are up"),
    ("GET", "/metrics", False, "Prometheus metrics: local requests, admin tokens or the metrics token"),
    ("GET", "/skill.md", False, "Agent skill file"),
    ("GET", "/llms.txt", False, "Compact reference (text)"),
    ("GET", "/llms-full.txt", False, "Full reference with tutorials (text)"),
    ("GET", "/docs", False, "HTML docs"),
    ("GET", "/api/v1/docs", False, "JSON index of the docs and endpoints"),
    ("GET", "/api/v1/docs/recipes", False, "Recipes guide (JSON-wrapped markdown)"),
    ("GET", "/api/v1/docs/python-sdk", False, "Python SDK and CLI guide (JSON-wrapped markdown)"),
    ("GET", "/api/v1/docs/workflows", False, "Workflow patterns (JSON-wrapped markdown)"),
    ("GET", "/api/v1/docs/security", False, "Security model: the task sandbox (JSON-wrapped markdown)"),
    ("GET", "/api/v1/docs/openapi.json", False, "OpenAPI 3.1 document of these endpoints"),
    ("GET", "/docs/downloads/{filename}", False, "The Python SDK wheel (computalot-<version>-py3-none-any.whl)"),
    ("POST", "/api/v1/auth/register", False, "Always 403: API keys are issued by an operator"),
    ("POST", "/api/v1/auth/wallet/challenge", False, "Sign-In with Ethereum challenge for a whitelisted wallet"),
    ("POST", "/api/v1/auth/wallet/verify", False, "Trade a signed challenge for an fls_ session token (24 h)"),
    ("POST", "/api/v1/feedback", False, "Report a bug or ask for a feature (rate-limited per client)"),
    ("POST", "/api/v1/projects", True, "Create a project"),
    ("GET", "/api/v1/projects", True, "List your projects"),
    ("GET", "/api/v1/projects/{name}", True, "One project"),
    ("PUT", "/api/v1/projects/{name}", True, "Update a project's remote_dir and description"),
    ("DELETE", "/api/v1/projects/{name}", True, "Delete a project (409 while it has active jobs)"),
    ("POST", "/api/v1/projects/{name}/push", True, "Push a gzip tarball and publish a revision"),
    ("GET", "/api/v1/projects/{name}/status", True, "Active revision and agent readiness"),
    ("POST", "/api/v1/projects/{name}/init", True, "Request setup (202); needs $5 available, else 402"),
    ("GET", "/api/v1/projects/{name}/stream", True, "SSE: pushes and the status and result events of its jobs"),
    ("POST", "/api/v1/jobs", True, "Submit a job"),
    ("POST", "/api/v1/jobs/batch", True, "Submit up to 200 jobs; one outcome per entry, in order"),
    ("GET", "/api/v1/jobs", True, "List jobs, newest first"),
    ("GET", "/api/v1/jobs/{job_id}", True, "Job state"),
    ("GET", "/api/v1/jobs/{job_id}/tasks", True, "Per-task state, output tail, progress and payload"),
    ("GET", "/api/v1/jobs/{job_id}/output", True, "Output tail per task"),
    ("GET", "/api/v1/jobs/{job_id}/events", True, "Lifecycle events"),
    ("PUT", "/api/v1/jobs/{job_id}/cancel", True, "Cancel a job"),
    ("GET", "/api/v1/jobs/{job_id}/stream", True, "SSE: the job's events, then end; Last-Event-ID resumes"),
    ("GET", "/api/v1/jobs/watch", True, "SSE: the events of up to 100 jobs (?ids=a,b), then end"),
    ("GET", "/api/v1/account/stream-endpoint", True, "ZeroMQ endpoint and topic publishing your events"),
    ("GET", "/api/v1/presets", True, "Resource presets and recipe rates (usd_per_hour)"),
    (
        "GET",
        "/api/v1/account",
        True,
        "Your account, with the webhook secret that signs job callbacks (not for viewers)",
    ),
    ("GET", "/api/v1/account/balance", True, "ledger_balance_usd, held_usd, available_usd"),
    ("GET", "/api/v1/account/holds", True, "Active holds of your jobs"),
    ("GET", "/api/v1/account/ledger", True, "Credits and debits, newest first, each with its job (limit, before)"),
    ("GET", "/api/v1/account/quotes", True, "Open top-up and shortfall quotes"),
    ("POST", "/api/v1/account/quotes/topup", True, "402 with a top-up quote and x402 payment requirements"),
    ("POST", "/api/v1/account/quotes/{quote_id}/pay/x402", True, "Pay a quote with a PAYMENT-SIGNATURE header"),
    ("GET", "/api/v1/results/{job_id}", True, "Per-task results and the aggregate"),
    ("POST", "/api/v1/artifacts", True, "Upload an artifact: the raw body (at most 2 GiB), X-Artifact-Filename"),
    ("GET", "/api/v1/artifacts", True, "List your artifacts, newest first (limit, before, prefix)"),
    ("GET", "/api/v1/artifacts/{artifact_id}", True, "Download an artifact (Range, ETag; HEAD for headers only)"),
    ("GET", "/api/v1/artifacts/{artifact_id}/meta", True, "An artifact's metadata, without the body"),
    ("DELETE", "/api/v1/artifacts/{artifact_id}", True, "Delete an artifact"),
    ("POST", "/api/v1/artifacts/direct", True, "A signed upload URL for {sha256, size, filename}"),
    ("PUT", "/api/v1/artifacts/direct/{token}", False, "Upload to a signed direct URL (no token)"),
    ("POST", "/api/v1/artifacts/multipart", True, "Start a resumable multipart upload {filename, size, part_size?}"),
    ("GET", "/api/v1/artifacts/multipart/{upload_id}", True, "Part URLs, received and missing parts"),
    ("DELETE", "/api/v1/artifacts/multipart/{upload_id}", True, "Abort a multipart upload"),
    ("PUT", "/api/v1/artifacts/multipart/{upload_id}/parts/{number}", False, "Upload one part to its signed URL"),
    ("POST", "/api/v1/artifacts/multipart/complete", True, "Assemble and verify {upload_id, sha256?}"),
    ("GET", "/api/v1/recipes", True, "Recipe catalog"),
    ("GET", "/api/v1/recipes/{name}", True, "One recipe's schema, operations, artifact inputs and examples"),
    ("POST", "/api/v1/recipes/{name}/jobs", True, "Submit a recipe job"),
    ("GET", "/api/v1/admin/accounts", True, "Admin: accounts with roles and balances"),
    ("POST", "/api/v1/admin/accounts", True, "Admin: create an account {name, role, credit_usd?} and its first key"),
    ("GET", "/api/v1/admin/accounts/{account_id}/keys", True, "Admin: an account's API keys (prefixes only)"),
    ("POST", "/api/v1/admin/accounts/{account_id}/keys", True, "Admin: issue another API key"),
    ("DELETE", "/api/v1/admin/keys/{key_id}", True, "Admin: revoke an API key"),
    ("POST", "/api/v1/admin/accounts/{account_id}/credit", True, "Admin: credit {amount_usd, reason}"),
    ("POST", "/api/v1/admin/accounts/{account_id}/debit", True, "Admin: debit {amount_usd, reason}"),
    ("GET", "/api/v1/admin/wallets", True, "Admin: whitelisted wallets"),
    ("POST", "/api/v1/admin/wallets", True, "Admin: whitelist a wallet {wallet_address, account_id?, role?}"),
    ("DELETE", "/api/v1/admin/wallets/{wallet_address}", True, "Admin: remove a wallet and end its sessions"),
    ("GET", "/api/v1/admin/feedback", True, "Admin: feedback, newest first (limit, before, type)"),
    ("POST", "/api/v1/admin/agents", True, "Admin: create an agent {name}; its agent_id and agent key"),
)

#: Every served document: (path, title, format of the response body).
DOCUMENTS: tuple[tuple[str, str, str], ...] = (
    ("/skill.md", "Agent skill", "markdown"),
    ("/llms.txt", "Compact reference", "text"),
    ("/llms-full.txt", "Full reference with tutorials", "text"),
    ("/docs", "HTML docs", "html"),
    ("/api/v1/docs", "Docs and endpoint index", "json"),
    ("/api/v1/docs/recipes", "Recipes", "json"),
    ("/api/v1/docs/python-sdk", "Python SDK and CLI", "json"),
    ("/api/v1/docs/workflows", "Workflow patterns", "json"),
    ("/api/v1/docs/security", "Security model", "json"),
    ("/api/v1/docs/openapi.json", "OpenAPI document", "json"),
)

#: JSON-wrapped guides: path -> (source file, title).
GUIDES: dict[str, tuple[str, str]] = {
    "/api/v1/docs/recipes": ("recipes.md", "Recipes"),
    "/api/v1/docs/python-sdk": ("python-sdk.md", "Python SDK and CLI"),
    "/api/v1/docs/workflows": ("workflows.md", "Workflow patterns"),
    "/api/v1/docs/security": ("security.md", "Security model"),
}


def read_doc(name: str) -> str:
    """The text of `controller/docs/<name>`."""
    return resources.files("controller").joinpath("docs", name).read_text(encoding="utf-8")


def server_version() -> str:
    """The installed computalot-server version, or "unknown" when running from an uninstalled tree."""
    try:
        return metadata.version("computalot-server")
    except metadata.PackageNotFoundError:
        return "unknown"


def docs_index() -> dict[str, Any]:
    """The body of `GET /api/v1/docs`."""
    return {
        "name": "Computalot",
        "version": server_version(),
        "docs": [{"path": path, "title": title, "format": fmt} for path, title, fmt in DOCUMENTS],
        "endpoints": [
            {"method": method, "path": path, "auth": auth, "summary": summary}
            for method, path, auth, summary in ENDPOINTS
        ],
    }


def guide_text(path: str) -> str:
    """The markdown of one guide; the recipes guide ends with this server's installed catalog."""
    name, _ = GUIDES[path]
    text = read_doc(name)
    if path == "/api/v1/docs/recipes":
        text = text.rstrip("\n") + "\n\n" + recipe_catalog()
    return text


def recipe_catalog() -> str:
    """Markdown listing the recipes this server has installed."""
    lines = ["## Installed on this server", ""]
    recipes = sorted(registry().values(), key=lambda r: r.name)
    if not recipes:
        return "\n".join([*lines, "No recipe is installed.", ""])
    lines += ["| Recipe | Operations | Description |", "|---|---|---|"]
    for recipe in recipes:
        operations = ", ".join(f"`{op}`" for op in recipe.operations)
        lines.append(f"| `{recipe.name}` | {operations} | {recipe.description} |")
    return "\n".join([*lines, ""])


@routes.get("/api/v1/docs")
async def get_docs_index(request: web.Request) -> web.Response:
    return json_response(docs_index())


async def get_guide(request: web.Request) -> web.Response:
    _, title = GUIDES[request.path]
    return json_response({"title": title, "format": "markdown", "content": guide_text(request.path)})


for _path in GUIDES:
    routes.get(_path)(get_guide)


@routes.get("/docs")
async def get_docs_page(request: web.Request) -> web.Response:
    return web.Response(text=docs_page(), content_type="text/html")


def docs_page() -> str:
    """The HTML docs: llms-full.txt.md, then each guide, inside the `index.html` shell."""
    content, sections = markdown_to_html(read_doc("llms-full.txt.md"))
    guides, guide_links = [], []
    for path, (_, title) in GUIDES.items():
        anchor = "guide-" + path.rsplit("/", 1)[-1]
        body, _ = markdown_to_html(guide_text(path), shift=1, id_prefix=anchor + "-")
        guides.append(f'<section class="guide" id="{anchor}">\n{body}\n</section>')
        guide_links.append(f'    <li><a href="#{anchor}">{html.escape(title)}</a></li>')
    nav = "\n".join(f'    <li><a href="#{anchor}">{label}</a></li>' for anchor, label in sections)
    replacements = {
        "{{nav}}": nav,
        "{{guides_nav}}": "\n".join(guide_links),
        "{{content}}": content,
        "{{guides}}": "\n".join(guides),
        "{{version}}": html.escape(server_version()),
    }
    page = read_doc("index.html")
    for marker, value in replacements.items():
        page = page.replace(marker, value)
    return page


# -- a small Markdown renderer, enough for the docs in controller/docs/ ---------------------------------------

_FENCE = re.compile(r"^\s*```")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_LIST_ITEM = re.compile(r"^(\s*)([-*]|\d+[.)])\s+(.*)$")
_CODE_SPAN = re.compile(r"(`[^`]+`)")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_STRONG = re.compile(r"\*\*(.+?)\*\*")
_EMPHASIS = re.compile(r"(?<![\w*])\*([^*\s](?:[^*]*[^*\s])?)\*(?![\w*])")


def markdown_to_html(text: str, *, shift: int = 0, id_prefix: str = "") -> tuple[str, list[tuple[str, str]]]:
    """Render the Markdown subset the docs use: headings, paragraphs, lists, fenced code, tables, inline code,
    bold, emphasis and links. Returns the HTML and (anchor, label) of each level-2 heading, for navigation.

    `shift` lowers every heading by that many levels; `id_prefix` keeps anchors of several documents apart.
    """
    out: list[str] = []
    sections: list[tuple[str, str]] = []
    lines = text.split("\n")
    paragraph: list[str] = []
    list_kind = ""  # "ul" or "ol" while a list is open
    item: list[str] = []

    def flush_paragraph() -> None:
        if paragraph:
            out.append(f"<p>{_inline(' '.join(paragraph))}</p>")
            paragraph.clear()

    def flush_item() -> None:
        if item:
            out.append(f"<li>{_inline(' '.join(item))}</li>")
            item.clear()

    def close_list() -> None:
        nonlocal list_kind
        flush_item()
        if list_kind:
            out.append(f"</{list_kind}>")
            list_kind = ""

    def close_blocks() -> None:
        flush_paragraph()
        close_list()

    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if _FENCE.match(line):
            close_blocks()
            indent = len(line) - len(line.lstrip())
            code: list[str] = []
            i += 1
            while i < len(lines) and not _FENCE.match(lines[i]):
                code.append(lines[i][indent:] if lines[i][:indent].strip() == "" else lines[i])
                i += 1
            out.append(f"<pre><code>{html.escape(chr(10).join(code))}</code></pre>")
            i += 1
            continue
        if not stripped:
            close_blocks()
        elif heading := _HEADING.match(line):
            close_blocks()
            level = min(len(heading.group(1)) + shift, 6)
            label = _inline(heading.group(2))
            anchor = id_prefix + _slug(heading.group(2))
            out.append(f'<h{level} id="{anchor}">{label}</h{level}>')
            if level == 2 and not shift:
                sections.append((anchor, label))
        elif stripped.startswith("|"):
            close_blocks()
            rows = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                rows.append(lines[i].strip())
                i += 1
            out.append(_table(rows))
            continue
        elif match := _LIST_ITEM.match(line):
            flush_paragraph()
            marker = match.group(2)
            kind = "ul" if marker in "-*" else "ol"
            if kind != list_kind:
                close_list()
                start = int(marker[:-1]) if kind == "ol" else 1
                out.append(f'<ol start="{start}">' if kind == "ol" and start != 1 else f"<{kind}>")
                list_kind = kind
            flush_item()
            item.append(match.group(3))
        elif list_kind and line[:1].isspace():
            item.append(stripped)
        else:
            close_list()
            paragraph.append(stripped)
        i += 1
    close_blocks()
    return "\n".join(out), sections


def _table(rows: list[str]) -> str:
    cells = [[c.strip() for c in row.strip("|").split("|")] for row in rows]
    if len(cells) > 1 and all(re.fullmatch(r":?-{3,}:?", c) for c in cells[1]):
        head, body = cells[0], cells[2:]
    else:
        head, body = [], cells
    parts = ["<table>"]
    if head:
        parts.append("<thead><tr>" + "".join(f"<th>{_inline(c)}</th>" for c in head) + "</tr></thead>")
    parts.append("<tbody>")
    parts += ["<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>" for row in body]
    parts.append("</tbody></table>")
    return "\n".join(parts)


def _inline(text: str) -> str:
    pieces = []
    for piece in _CODE_SPAN.split(text):
        if len(piece) > 1 and piece.startswith("`") and piece.endswith("`"):
            pieces.append(f"<code>{html.escape(piece[1:-1])}</code>")
            continue
        piece = html.escape(piece)
        piece = _LINK.sub(r'<a href="\2">\1</a>', piece)
        piece = _STRONG.sub(r"<strong>\1</strong>", piece)
        pieces.append(_EMPHASIS.sub(r"<em>\1</em>", piece))
    return "".join(pieces)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


async def serve_doc(request: web.Request) -> web.Response:
    name, content_type = DOCS[request.path]
    return web.Response(text=doc_text(name), content_type=content_type)


for _path in DOCS:
    routes.get(_path)(serve_doc)
