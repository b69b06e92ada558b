"""Which frameworks and libraries the material uses.

Two sources, both matched against the curated `KNOWN` table:

* imports in code: Python `import x` / `from x import`, JS/TS `import ... from 'x'` / `require('x')`,
  Go quoted module paths, Rust `use x::`, Java/Kotlin/Scala `import a.b.c`, Ruby `require 'x'`,
  PHP `use A\\B`, C# `using A.B;`;
* manifests: package.json / composer.json (dependency keys), requirements*.txt, pyproject.toml,
  Cargo.toml, go.mod, pom.xml, build.gradle(.kts), Gemfile. A JSON-object content with a
  `dependencies`-like key counts as a package.json.

A module or package name matches the table by its longest prefix cut at `.`, `/`, `\\`, `:` or
`-` (so `org.springframework.web` -> Spring, `react-dom` -> React, `pytest-asyncio` -> pytest).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Literal

from gateway.providers.rules.inputs import content_json
from gateway.providers.rules.sources import FileChange, Material

Category = Literal["framework", "library", "tool"]

KNOWN: Mapping[str, tuple[str, Category]] = {
    # Python
    "django": ("Django", "framework"),
    "flask": ("Flask", "framework"),
    "fastapi": ("FastAPI", "framework"),
    "starlette": ("Starlette", "framework"),
    "tornado": ("Tornado", "framework"),
    "pytest": ("pytest", "tool"),
    "hypothesis": ("Hypothesis", "tool"),
    "pandas": ("pandas", "library"),
    "numpy": ("NumPy", "library"),
    "scipy": ("SciPy", "library"),
    "pydantic": ("Pydantic", "library"),
    "sqlalchemy": ("SQLAlchemy", "library"),
    "alembic": ("Alembic", "tool"),
    "celery": ("Celery", "framework"),
    "requests": ("Requests", "library"),
    "httpx": ("HTTPX", "library"),
    "aiohttp": ("aiohttp", "library"),
    "torch": ("PyTorch", "framework"),
    "tensorflow": ("TensorFlow", "framework"),
    "keras": ("Keras", "framework"),
    "sklearn": ("scikit-learn", "library"),
    "scikit-learn": ("scikit-learn", "library"),
    "matplotlib": ("Matplotlib", "library"),
    "boto3": ("AWS SDK (boto3)", "library"),
    "transformers": ("Hugging Face Transformers", "library"),
    "langchain": ("LangChain", "framework"),
    "pyspark": ("Apache Spark", "framework"),
    "airflow": ("Apache Airflow", "tool"),
    "jinja2": ("Jinja", "library"),
    # JavaScript / TypeScript
    "react": ("React", "framework"),
    "react-native": ("React Native", "framework"),
    "vue": ("Vue", "framework"),
    "@angular": ("Angular", "framework"),
    "svelte": ("Svelte", "framework"),
    "next": ("Next.js", "framework"),
    "nuxt": ("Nuxt", "framework"),
    "express": ("Express", "framework"),
    "koa": ("Koa", "framework"),
    "fastify": ("Fastify", "framework"),
    "@nestjs": ("NestJS", "framework"),
    "redux": ("Redux", "library"),
    "@reduxjs": ("Redux", "library"),
    "jest": ("Jest", "tool"),
    "mocha": ("Mocha", "tool"),
    "vitest": ("Vitest", "tool"),
    "cypress": ("Cypress", "tool"),
    "@playwright": ("Playwright", "tool"),
    "webpack": ("webpack", "tool"),
    "vite": ("Vite", "tool"),
    "tailwindcss": ("Tailwind CSS", "framework"),
    "axios": ("Axios", "library"),
    "lodash": ("Lodash", "library"),
    "graphql": ("GraphQL", "library"),
    "@apollo": ("Apollo", "library"),
    "prisma": ("Prisma", "library"),
    "@prisma": ("Prisma", "library"),
    "mongoose": ("Mongoose", "library"),
    "sequelize": ("Sequelize", "library"),
    "electron": ("Electron", "framework"),
    # Go
    "github.com/gin-gonic/gin": ("Gin", "framework"),
    "github.com/labstack/echo": ("Echo", "framework"),
    "github.com/gofiber/fiber": ("Fiber", "framework"),
    "gorm.io/gorm": ("GORM", "library"),
    "github.com/stretchr/testify": ("Testify", "tool"),
    "github.com/spf13/cobra": ("Cobra", "library"),
    "google.golang.org/grpc": ("gRPC", "framework"),
    "github.com/gorilla/mux": ("Gorilla Mux", "library"),
    # Rust
    "tokio": ("Tokio", "framework"),
    "actix_web": ("Actix Web", "framework"),
    "actix-web": ("Actix Web", "framework"),
    "axum": ("Axum", "framework"),
    "serde": ("Serde", "library"),
    "rocket": ("Rocket", "framework"),
    "diesel": ("Diesel", "library"),
    "reqwest": ("reqwest", "library"),
    "clap": ("clap", "library"),
    "sqlx": ("SQLx", "library"),
    "warp": ("warp", "framework"),
    # JVM
    "org.springframework": ("Spring", "framework"),
    "spring": ("Spring", "framework"),
    "org.hibernate": ("Hibernate", "library"),
    "org.junit": ("JUnit", "tool"),
    "junit": ("JUnit", "tool"),
    "io.micronaut": ("Micronaut", "framework"),
    "io.quarkus": ("Quarkus", "framework"),
    "com.fasterxml.jackson": ("Jackson", "library"),
    "io.ktor": ("Ktor", "framework"),
    "org.mockito": ("Mockito", "tool"),
    "lombok": ("Lombok", "library"),
    "akka": ("Akka", "framework"),
    # Ruby, PHP, .NET
    "rails": ("Rails", "framework"),
    "activerecord": ("Rails", "framework"),
    "sinatra": ("Sinatra", "framework"),
    "rspec": ("RSpec", "tool"),
    "sidekiq": ("Sidekiq", "library"),
    "illuminate": ("Laravel", "framework"),
    "laravel": ("Laravel", "framework"),
    "symfony": ("Symfony", "framework"),
    "phpunit": ("PHPUnit", "tool"),
    "microsoft.aspnetcore": ("ASP.NET Core", "framework"),
    "microsoft.entityframeworkcore": ("Entity Framework", "library"),
    "xunit": ("xUnit", "tool"),
}

IMPORT_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p, re.MULTILINE)
    for p in (
        r"^\s*from\s+([\w.]+)\s+import\b",
        r"^\s*import\s+([\w.]+)\s*(?:,|;|$|\bas\b)",
        r"""(?:\bfrom\s+|^\s*import\s+|\brequire\(\s*|\bimport\(\s*)['"]([^'"\s]+)['"]""",
        r'^\s*(?:import\s+)?(?:[\w.]+\s+)?"([a-z0-9.-]+\.[a-z]{2,}/[^"\s]+)"',
        r"^\s*(?:pub\s+)?(?:use|extern\s+crate)\s+(\w+)",
        r"^\s*import\s+(?:static\s+)?([\w.]+)",
        r"""^\s*require\s*\(?\s*['"]([^'"]+)['"]""",
        r"^\s*use\s+([\w\\]+)",
        r"^\s*using\s+([\w.]+)\s*;",
    )
)

SEPARATORS = re.compile(r"[./\\:-]")
DEPENDENCY_KEYS: tuple[str, ...] = (
    "dependencies",
    "devDependencies",
    "peerDependencies",
    "require",
    "require-dev",
)
PEP508_NAME = re.compile(r"^\s*([A-Za-z0-9][\w.-]*)")
TOML_KEY = re.compile(r"^\s*([A-Za-z0-9_][\w.-]*)\s*=", re.MULTILINE)
TOML_QUOTED = re.compile(r"""["']([A-Za-z0-9][\w.-]*)\s*(?:[<>=~!;\[ ]|["'])""")
JSON_KEY = re.compile(r'^\s*"(@?[\w.-]+(?:/[\w.-]+)?)"\s*:\s*"', re.MULTILINE)
GO_REQUIRE = re.compile(r"^\s*(?:require\s+)?([a-z0-9.-]+\.[a-z]{2,}/\S+)\s+v\d", re.MULTILINE)
XML_IDS = re.compile(r"<(?:groupId|artifactId)>\s*([^<\s]+)\s*</")
GRADLE_DEP = re.compile(r"""['"]([\w.-]+):([\w.-]+)(?::[^'"]*)?['"]""")
GEM = re.compile(r"""^\s*gem\s+['"]([^'"]+)['"]""", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class FrameworkHit:
    name: str
    category: Category
    evidence: str
    via_manifest: bool


def lookup(module: str) -> tuple[str, Category] | None:
    """The table entry for a module name, by its longest matching prefix."""
    module = module.strip().lower()
    cuts = [m.start() for m in SEPARATORS.finditer(module)] + [len(module)]
    for cut in sorted(cuts, reverse=True):
        entry = KNOWN.get(module[:cut])
        if entry:
            return entry
    return None


def imported_modules(code: str) -> Iterator[str]:
    for pattern in IMPORT_PATTERNS:
        for match in pattern.finditer(code):
            yield match.group(1)


def _toml_names(body: str) -> list[str]:
    try:
        data = tomllib.loads(body)
    except tomllib.TOMLDecodeError:
        return TOML_KEY.findall(body) + TOML_QUOTED.findall(body)
    return list(_toml_dependency_names(data))


def _table(data: Any, *path: str) -> Mapping[str, Any]:
    for key in path:
        data = data.get(key) if isinstance(data, Mapping) else None
    return data if isinstance(data, Mapping) else {}


def _toml_dependency_names(data: Mapping[str, Any]) -> Iterator[str]:
    project = _table(data, "project")
    for spec in _as_list(project.get("dependencies")) + _flat(project.get("optional-dependencies")):
        match = PEP508_NAME.match(str(spec))
        if match:
            yield match.group(1)
    for table in (data, _table(data, "tool", "poetry")):
        for key in ("dependencies", "dev-dependencies", "build-dependencies"):
            yield from _keys(table.get(key))


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def _flat(value: Any) -> list[Any]:
    if not isinstance(value, Mapping):
        return []
    return [spec for specs in value.values() for spec in _as_list(specs)]


def _keys(value: Any) -> list[str]:
    return [str(key) for key in value] if isinstance(value, Mapping) else []


def _json_names(body: str) -> list[str]:
    data = content_json(body)
    if not data:
        return JSON_KEY.findall(body)
    return [name for key in DEPENDENCY_KEYS for name in _keys(data.get(key))]


def _requirements_names(body: str) -> list[str]:
    lines = (line for line in body.splitlines() if not line.strip().startswith(("#", "-")))
    return [m.group(1) for m in map(PEP508_NAME.match, lines) if m]


def _gradle_names(body: str) -> list[str]:
    return [part for pair in GRADLE_DEP.findall(body) for part in pair]


MANIFESTS: Mapping[str, Callable[[str], list[Any]]] = {
    "package.json": _json_names,
    "composer.json": _json_names,
    "pyproject.toml": _toml_names,
    "cargo.toml": _toml_names,
    "go.mod": GO_REQUIRE.findall,
    "pom.xml": XML_IDS.findall,
    "build.gradle": _gradle_names,
    "build.gradle.kts": _gradle_names,
    "gemfile": GEM.findall,
}


def manifest_kind(path: str) -> str | None:
    name = PurePosixPath(path).name.lower()
    if name.startswith("requirements") and name.endswith((".txt", ".in")):
        return "requirements.txt"
    return name if name in MANIFESTS else None


def manifest_dependencies(kind: str, body: str) -> list[str]:
    if kind == "requirements.txt":
        return _requirements_names(body)
    parser = MANIFESTS[kind]
    return [str(name) for name in parser(body)]


def _manifest_hits(kind: str, body: str) -> Iterator[FrameworkHit]:
    for dependency in manifest_dependencies(kind, body):
        entry = lookup(dependency)
        if entry:
            yield FrameworkHit(entry[0], entry[1], f"rules: {kind} lists '{dependency}'", True)


def _import_hits(change: FileChange) -> Iterator[FrameworkHit]:
    where = change.path or "snippet"
    for module in imported_modules(change.code):
        entry = lookup(module)
        if entry:
            yield FrameworkHit(entry[0], entry[1], f"rules: {where} imports '{module}'", False)


def _file_hits(change: FileChange) -> Iterator[FrameworkHit]:
    kind = manifest_kind(change.path)
    if kind:
        yield from _manifest_hits(kind, change.code)
    else:
        yield from _import_hits(change)


def _content_manifest(content: str) -> Iterator[FrameworkHit]:
    data = content_json(content)
    if any(key in data for key in DEPENDENCY_KEYS):
        yield from _manifest_hits("package.json", content)


def detect(material: Material, content: str = "") -> list[FrameworkHit]:
    """One hit per framework (imports before manifests), sorted by name."""
    hits: Iterable[FrameworkHit] = [h for f in material.code_files for h in _file_hits(f)]
    hits = sorted(hits, key=lambda h: h.via_manifest)
    if not material.code_files:
        hits = list(_content_manifest(content))
    first: dict[str, FrameworkHit] = {}
    for hit in hits:
        first.setdefault(hit.name, hit)
    return sorted(first.values(), key=lambda h: h.name.lower())
