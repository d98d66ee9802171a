"""lab08 hidden checks: the schema served, what it says, the docs pages, the committed contract.

Grader fixtures only. The schema is read over HTTP (``api``) as any client reads it, parsed here,
and judged here: validity against the OpenAPI 3 JSON Schema that drf-spectacular ships (a data
file, read without importing the package), the error component on every 4xx, the bearer
scheme and who needs it, and whether real answers of the API (both versions of its lists, its
errors) fit what the schema documents. The committed ``openapi.yaml`` is read from the project's
folder as a file (``project.root``), never through the project's code.

Posts and users are written with ``data``; requests that need a caller use ``api.authenticate``.
"""

from __future__ import annotations

import datetime
import importlib.util
import itertools
import json
import re
from pathlib import Path

SCHEMA, DOCS, REDOC = "/api/schema/", "/api/docs/", "/api/redoc/"
POSTS = "/api/posts/"
V2 = {"Accept": "application/json; version=2"}
OPENAPI_JSON = {"Accept": "application/vnd.oai.openapi+json"}
WHEN = datetime.datetime(2024, 9, 17, 8, 30, tzinfo=datetime.UTC)
METHODS = ("get", "put", "post", "delete", "patch")
_serial = itertools.count(1)


# --- reading the schema ---------------------------------------------------------------------


def _yaml(text, what):
    import yaml

    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise AssertionError(f"{what} is not valid YAML: {str(exc).splitlines()[0]}") from None
    assert isinstance(document, dict), f"{what} is not a YAML mapping (an OpenAPI document)"
    return document


def served(api):
    """The schema as GET /api/schema/?format=json serves it (a dict)."""
    response = api.get(SCHEMA + "?format=json")
    assert response.status == 200, (
        f"GET {SCHEMA}?format=json answered {response.status}; expected 200 with the OpenAPI "
        "document as JSON (drf-spectacular's SpectacularAPIView at api/schema/)"
    )
    document = response.json()
    assert isinstance(document, dict) and str(document.get("openapi", "")).startswith("3."), (
        f"GET {SCHEMA}?format=json did not answer an OpenAPI 3 document (no \"openapi\": \"3.x\")"
    )
    return document


def operations(document):
    """``[(label, path, method, operation)]`` of every operation in ``document``."""
    found = []
    for path, item in sorted((document.get("paths") or {}).items()):
        for method in METHODS:
            if isinstance(item, dict) and isinstance(item.get(method), dict):
                found.append((f"{method.upper()} {path}", path, method, item[method]))
    return found


def _operation(document, method, path):
    item = (document.get("paths") or {}).get(path)
    assert isinstance(item, dict) and isinstance(item.get(method), dict), (
        f"the schema does not document {method.upper()} {path}: every endpoint of labs 01-07 "
        "must be in it (a view drf-spectacular skips needs extend_schema)"
    )
    return item[method]


def resolve(document, node, depth=0):
    """``node`` with its ``$ref`` followed (local references only)."""
    while isinstance(node, dict) and "$ref" in node and depth < 20:
        ref = str(node["$ref"])
        assert ref.startswith("#/"), f"the schema refers outside itself ({ref}); keep it one file"
        node = document
        for part in ref[2:].split("/"):
            node = node.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(node, dict) else {}
        depth += 1
    return node


def _media_schemas(document, response):
    response = resolve(document, response)
    content = response.get("content") if isinstance(response, dict) else None
    return [media.get("schema", {}) for media in (content or {}).values() if isinstance(media, dict)]


def fits(document, schema, body):
    """Whether ``body`` is valid against ``schema`` (an OpenAPI 3.0 schema object)."""
    import jsonschema

    bundled = {**_as_json_schema(schema), "components": _as_json_schema(document.get("components", {}))}
    try:
        jsonschema.Draft4Validator(bundled).validate(body)
    except jsonschema.ValidationError:
        return False
    return True


def _as_json_schema(node):
    """OpenAPI 3.0's ``nullable: true`` as JSON Schema's null type, everywhere in ``node``."""
    if isinstance(node, list):
        return [_as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _as_json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable") is True:
        return {"anyOf": [out, {"type": "null"}]}
    return out


def documented_fit(document, method, path, status, body):
    """Why ``body`` answered with ``status`` breaks the documentation, or None when it fits."""
    responses = _operation(document, method, path).get("responses") or {}
    response = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or responses.get("default")
    if response is None:
        return f"{method.upper()} {path} answered {status}, which its responses do not document"
    schemas = _media_schemas(document, response)
    if not schemas:
        return f"{method.upper()} {path}'s {status} response documents no body"
    if not any(fits(document, schema, body) for schema in schemas):
        return (
            f"{method.upper()} {path} answered {status} with {json.dumps(body)[:160]}, which does "
            f"not fit the documented {status} response's schema"
        )
    return None


# --- the world the checks read --------------------------------------------------------------


def _post(data, *, author, status="published"):
    n = next(_serial)
    category = data.create("blog.Category", name=f"Grader contract {n}", slug=f"grader-contract-{n}")
    return data.create(
        "blog.Post",
        title=f"Grader contract post {n}",
        slug=f"grader-contract-post-{n}",
        body="Written by the grader.",
        author=author,
        category=category,
        status=status,
        published_at=WHEN if status == "published" else None,
    )


# --- the checks -----------------------------------------------------------------------------


def test_the_schema_is_served_as_yaml_and_as_json(api):
    yaml_answer = api.get(SCHEMA)
    assert yaml_answer.status == 200, (
        f"GET {SCHEMA} answered {yaml_answer.status}; expected 200 with the OpenAPI document "
        "(path(\"schema/\", SpectacularAPIView.as_view()) under /api/)"
    )
    assert "yaml" in yaml_answer.content_type or "openapi" in yaml_answer.content_type, (
        f"GET {SCHEMA} answered the content type {yaml_answer.content_type or 'none'}; expected "
        "YAML (application/vnd.oai.openapi) by default"
    )
    as_yaml = _yaml(yaml_answer.body.decode("utf-8", "replace"), f"GET {SCHEMA}")
    as_json = served(api)
    assert as_yaml == as_json, (
        f"GET {SCHEMA} (YAML) and GET {SCHEMA}?format=json answered different documents: both "
        "must be the one schema"
    )
    negotiated = api.get(SCHEMA, headers=OPENAPI_JSON)
    assert negotiated.status == 200 and negotiated.json() == as_json, (
        f"GET {SCHEMA} with Accept: application/vnd.oai.openapi+json answered "
        f"{negotiated.status} {negotiated.content_type}; expected the same document as JSON"
    )


def test_the_schema_is_a_valid_openapi_3_document(api):
    import jsonschema

    document = served(api)
    spec = importlib.util.find_spec("drf_spectacular")
    assert spec and spec.submodule_search_locations, "drf-spectacular is not installed with the grader"
    version = "3_1" if str(document["openapi"]).startswith("3.1") else "3_0"
    meta = Path(next(iter(spec.submodule_search_locations))) / "validation" / f"openapi_{version}_schema.json"
    validator = jsonschema.Draft4Validator(json.loads(meta.read_text(encoding="utf-8")))
    problems = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not problems, (
        f"the schema served at {SCHEMA} is not a valid OpenAPI {document['openapi']} document: at "
        f"{'/'.join(map(str, problems[0].absolute_path)) or 'the top'}, {problems[0].message[:200]}. "
        "`python manage.py spectacular --validate --fail-on-warn` shows every problem"
    )
    missing = [
        (method, path)
        for method, path in [
            ("get", "/api/health/"), ("get", "/api/categories/"), ("get", "/api/tags/"),
            ("get", POSTS), ("post", POSTS), ("get", "/api/posts/{post_id}/"),
            ("patch", "/api/posts/{post_id}/"), ("delete", "/api/posts/{post_id}/"),
            ("post", "/api/posts/{post_id}/transition/"), ("get", "/api/posts/{post_id}/history/"),
            ("get", "/api/posts/{post_id}/comments/"), ("post", "/api/posts/{post_id}/comments/"),
            ("post", "/api/auth/token/"), ("post", "/api/auth/token/refresh/"),
            ("post", "/api/auth/register/"), ("post", "/api/auth/logout/"), ("get", "/api/auth/me/"),
        ]
        if not isinstance(((document.get("paths") or {}).get(path) or {}).get(method), dict)
    ]
    assert not missing, (
        f"the schema does not document {len(missing)} endpoints of labs 01-07, first "
        f"{missing[0][0].upper()} {missing[0][1]}: every endpoint belongs in the contract "
        "(the path parameter named as in the URL, {post_id})"
    )


def test_every_2xx_json_answer_documents_its_body(api):
    document = served(api)
    bare = [
        f"{label} {status}"
        for label, _path, _method, operation in operations(document)
        for status, response in sorted((operation.get("responses") or {}).items())
        if str(status).startswith("2") and str(status) != "204"
        and not any(schema for schema in _media_schemas(document, response))
    ]
    assert not bare, (
        f"{len(bare)} success responses document no body, first {bare[0]}: drf-spectacular cannot "
        "guess what an APIView answers, so say it with extend_schema(responses={...})"
    )


def test_every_4xx_is_the_documented_error_body(api):
    document = served(api)
    wrong = []
    for label, _path, _method, operation in operations(document):
        for status, response in sorted((operation.get("responses") or {}).items()):
            if not str(status).startswith("4"):
                continue
            schemas = _media_schemas(document, response)
            sample = {"error": {"code": "not_found", "message": "There is no such post."}}
            if not schemas or not all(
                fits(document, s, sample) and not fits(document, s, {"detail": "Not found."})
                for s in schemas
            ):
                wrong.append(f"{label} {status}")
    assert not wrong, (
        f"{len(wrong)} error responses are not the API's one error body, first {wrong[0]}: "
        "describe {\"error\": {\"code\", \"message\", \"fields\"?}} once as a component (an "
        "ErrorSerializer in api/schema.py) and use it for every 4xx response"
    )


def test_each_error_the_api_answers_is_documented(api, data):
    document = served(api)
    author = data.user(role="author")
    reader = data.user(role="reader")
    draft = _post(data, author=author, status="draft")
    published = _post(data, author=author)
    tried = []

    def judge(method, path, template, status, **kw):
        response = api.request(method.upper(), path, **kw)
        tried.append((method, template, response))
        assert response.status == status, (
            f"{method.upper()} {path} answered {response.status}; lab04-07 expect {status} here"
        )
        return documented_fit(document, method, template, status, response.json())

    detail = "/api/posts/{post_id}/"
    problems = [
        judge("get", f"/api/posts/{draft + published + 999}/", detail, 404),
        judge("post", POSTS, POSTS, 401, json_body={}),
        judge("get", f"{POSTS}?published_after=not-a-date", POSTS, 400),
        judge("get", POSTS, POSTS, 406, headers={"Accept": "application/json; version=9"}),
    ]
    api.authenticate(reader)
    problems.append(judge("post", POSTS, POSTS, 403, json_body={"title": "t", "body": "b", "category": 1}))
    problems.append(judge("patch", f"/api/posts/{published}/", detail, 403, json_body={"title": "x"}))
    api.authenticate(author)
    problems.append(judge("post", POSTS, POSTS, 400, json_body={}))
    problems.append(
        judge(
            "post",
            f"/api/posts/{draft}/transition/",
            "/api/posts/{post_id}/transition/",
            409,
            json_body={"to": "archived"},
        )
    )
    api.authenticate(None)
    throttled = None
    for _ in range(25):  # anonymous callers get 20 a minute (lab07)
        response = api.get("/api/categories/")
        if response.status == 429:
            throttled = documented_fit(document, "get", "/api/categories/", 429, response.json())
            break
    else:
        raise AssertionError("GET /api/categories/ was never throttled in 25 anonymous requests (lab07)")
    problems.append(throttled)
    problems = [p for p in problems if p]
    assert not problems, (
        f"{len(problems)} errors the API really answers are not in the schema, first: {problems[0]}. "
        "Document each status an operation can answer with the error component (extend_schema's "
        "responses, or a postprocessing hook for the 401, 406 and 429 every operation shares)"
    )


def _schemes(document):
    found = (document.get("components") or {}).get("securitySchemes") or {}
    return {
        name for name, scheme in found.items()
        if isinstance(scheme, dict) and scheme.get("type") == "http"
        and str(scheme.get("scheme", "")).lower() == "bearer"
    }


def _needs(operation, document, bearer):
    """(needs a login, accepts the bearer token) for one operation."""
    requirements = operation.get("security", document.get("security", []))
    if not isinstance(requirements, list):
        requirements = []
    optional = not requirements or any(r == {} for r in requirements)
    return not optional, any(isinstance(r, dict) and set(r) & bearer for r in requirements)


def test_the_bearer_scheme_and_who_needs_it(api):
    document = served(api)
    bearer = _schemes(document)
    assert bearer, (
        "the schema declares no HTTP bearer security scheme (components.securitySchemes with "
        "type: http, scheme: bearer): drf-spectacular adds one for Simple JWT's "
        "JWTAuthentication when it is in DEFAULT_AUTHENTICATION_CLASSES"
    )
    login = [
        ("post", POSTS), ("patch", "/api/posts/{post_id}/"), ("delete", "/api/posts/{post_id}/"),
        ("post", "/api/posts/{post_id}/transition/"), ("get", "/api/posts/{post_id}/history/"),
        ("post", "/api/posts/{post_id}/comments/"), ("get", "/api/auth/me/"),
    ]
    anyone = [
        ("get", "/api/health/"), ("get", "/api/categories/"), ("get", POSTS),
        ("get", "/api/posts/{post_id}/"), ("post", "/api/auth/token/"), ("post", "/api/auth/register/"),
    ]
    for method, path in login:
        needs, takes_bearer = _needs(_operation(document, method, path), document, bearer)
        assert needs and takes_bearer, (
            f"{method.upper()} {path} needs a logged-in caller (lab05-06), but its security in the "
            f"schema {'does not list the bearer scheme' if needs else 'lets anonymous callers in'}"
        )
    for method, path in anyone:
        needs, _ = _needs(_operation(document, method, path), document, bearer)
        assert not needs, (
            f"{method.upper()} {path} is open to anonymous callers, but the schema says it needs "
            "credentials: its security must include {} (drf-spectacular adds it for AllowAny and "
            "for reads under IsAuthenticatedOrReadOnly)"
        )


def test_both_versions_of_the_lists_are_documented(api, data):
    document = served(api)
    author = data.user(role="author")
    post = _post(data, author=author)
    data.create("blog.Comment", post=post, author=author, body="A grader's comment.")
    lists = [(POSTS, POSTS), (f"/api/posts/{post}/comments/", "/api/posts/{post_id}/comments/")]
    for url, template in lists:
        schemas = _media_schemas(document, (_operation(document, "get", template).get("responses") or {}).get("200", {}))
        assert schemas, f"GET {template} documents no 200 body"
        for name, headers in (("version 1", {}), ("version 2", V2)):
            response = api.get(url, headers=headers)
            assert response.status == 200, f"GET {url} ({name}) answered {response.status}; expected 200"
            body = response.json()
            assert any(fits(document, s, body) for s in schemas), (
                f"GET {url} in {name} answered {json.dumps(body)[:120]}..., which its documented 200 "
                "response does not allow: the schema must describe both versions (version 1's "
                "array and version 2's page, for instance as a oneOf)"
            )
        for nonsense in ({"unexpected": 1}, "text", [1, 2]):
            assert not any(fits(document, s, nonsense) for s in schemas), (
                f"GET {template}'s documented 200 response accepts {json.dumps(nonsense)}: a schema "
                "that allows anything tells clients nothing; describe the array and the page"
            )


def _first_difference(committed, served_, where="the schema"):
    if type(committed) is not type(served_):
        return f"{where}: openapi.yaml has {json.dumps(committed)[:60]}, the served schema {json.dumps(served_)[:60]}"
    if isinstance(committed, dict):
        for key in sorted(set(committed) | set(served_), key=str):
            if key not in served_:
                return f"{where}.{key}: in openapi.yaml, not in the served schema"
            if key not in committed:
                return f"{where}.{key}: in the served schema, not in openapi.yaml"
            found = _first_difference(committed[key], served_[key], f"{where}.{key}")
            if found:
                return found
        return None
    if isinstance(committed, list):
        if len(committed) != len(served_):
            return f"{where}: {len(committed)} items in openapi.yaml, {len(served_)} served"
        for index, (a, b) in enumerate(zip(committed, served_, strict=True)):
            found = _first_difference(a, b, f"{where}[{index}]")
            if found:
                return found
        return None
    if committed != served_:
        return f"{where}: openapi.yaml has {json.dumps(committed)[:60]}, the served schema {json.dumps(served_)[:60]}"
    return None


def test_the_committed_openapi_yaml_is_the_served_schema(api, project):
    path = Path(project.root) / "openapi.yaml"
    assert path.is_file() and not path.is_symlink(), (
        "there is no openapi.yaml next to manage.py: commit the reviewed contract, made with "
        "`python manage.py spectacular --file openapi.yaml`"
    )
    committed = _yaml(path.read_text(encoding="utf-8", errors="replace"), "openapi.yaml")
    difference = _first_difference(committed, served(api))
    assert difference is None, (
        f"the served schema is not the committed contract: {difference}. If the change is meant, "
        "review it and regenerate the contract (`python manage.py spectacular --file "
        "openapi.yaml`); if not, change the code back"
    )


_ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


def test_the_docs_pages_load_their_assets_from_the_project(api):
    for page in (DOCS, REDOC):
        response = api.get(page)
        assert response.status == 200 and response.content_type == "text/html", (
            f"GET {page} answered {response.status} {response.content_type or ''}; expected 200 "
            "with an HTML page (drf-spectacular's "
            + ("SpectacularSwaggerView" if page == DOCS else "SpectacularRedocView") + ")"
        )
        html = response.body.decode("utf-8", "replace")
        assets = _ASSET.findall(html)
        outside = [url for url in assets if re.match(r"(?i)^(https?:)?//", url)]
        assert not outside, (
            f"GET {page} loads {outside[0]} from another site: a docs page that needs a CDN is "
            "broken offline and in CI. Serve the assets from the project "
            "(drf-spectacular-sidecar, SWAGGER_UI_DIST/REDOC_DIST = \"SIDECAR\", and no web fonts)"
        )
        scripts = [url for url in assets if url.split("?")[0].endswith(".js")]
        assert scripts, f"GET {page} loads no script: the page cannot show the schema"
        for url in assets:
            if url.startswith("data:") or url.startswith("#"):
                continue
            asset = api.get(url if url.startswith("/") else page + url)
            assert asset.status == 200 and asset.body, (
                f"GET {page} loads {url}, which answered {asset.status}: the project must serve "
                "its static files itself (WhiteNoise), DEBUG or not"
            )
