"""Local stand-ins for the services `make e2e` talks to, each a real HTTP server on 127.0.0.1 that answers with
the vendor's documented shapes and refuses what the vendor refuses:

- ``FakeConfluent``: Confluent Cloud's Cloud API (environments, clusters, connectors with expansions, Flink
  regions) and the Flink REST API (statements, results, materialized tables), with separate Cloud and Flink keys,
  paging through ``metadata.next`` and ``page_size`` capped at 100;
- ``FakeOpenSearch``: the ``_search`` API of the two flagged indexes behind the master user's basic auth,
  404 ``index_not_found_exception`` for an index the sink has not created;
- ``FakeRedshiftData``: the Redshift Data API's JSON protocol (moto's Data API returns one fixed result whatever
  the SQL and never finishes a statement, so it cannot check a query) over a real PostgreSQL server: the SQL runs
  as the named database user, named parameters are bound, a statement is STARTED until described once, failed
  SQL carries PostgreSQL's error, results are paged.
"""
from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import time
import uuid
from urllib.parse import parse_qs, urlencode, urlparse

from tests.local_http import JsonHandler, LocalServer


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class FakeConfluent(LocalServer):
    """One organization: environments with clusters, connectors and Flink statements / materialized tables."""

    MAX_PAGE = 100

    def __init__(self, cloud_key=("CLOUDKEY", "cloud-secret"), flink_key=("FLINKKEY", "flink-secret"),
                 organization="11111111-2222-3333-4444-555555555555", region="eu-central-1"):
        self.cloud_auth, self.flink_auth = basic(*cloud_key), basic(*flink_key)
        self.organization, self.region = organization, region
        self.environments: dict[str, dict] = {}
        self.clusters: dict[str, list[dict]] = {}  # environment id -> clusters
        self.connectors: dict[tuple[str, str], dict] = {}  # (env, cluster) -> name -> expansion
        self.statements: dict[str, dict] = {}  # name -> statement (one environment's Flink)
        self.materialized_tables: list[dict] = []
        self.describe_rows: dict[str, list[list]] = {}  # table -> DESCRIBE rows
        self.deleted: list[str] = []
        self.requests: list[tuple[str, str]] = []
        fake = self

        class Handler(JsonHandler):
            def _route(self, method: str) -> None:
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                fake.requests.append((method, self.path))
                flink = url.path.startswith("/sql/")
                if self.headers.get("Authorization") != (fake.flink_auth if flink else fake.cloud_auth):
                    self.answer(401, {"errors": [{"status": "401", "detail": "The API Key is invalid"}]})
                    return
                if "page_size" in query and int(query["page_size"]) > fake.MAX_PAGE:
                    self.answer(400, {"errors": [{"detail": f"page_size must be at most {fake.MAX_PAGE}"}]})
                    return
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = json.loads(raw) if raw else None
                status, answer = (fake.flink_call if flink else fake.cloud_call)(method, url.path, query, body,
                                                                                 self.server_url())
                self.answer(status, answer)

            def server_url(self) -> str:
                return f"http://{self.headers['Host']}"

            def do_GET(self):
                self._route("GET")

            def do_POST(self):
                self._route("POST")

            def do_DELETE(self):
                self._route("DELETE")

        super().__init__(Handler)

    # -- setup helpers
    def add_environment(self, env_id: str, name: str) -> dict:
        env = {"id": env_id, "display_name": name,
               "metadata": {"resource_name": f"crn://confluent.cloud/organization={self.organization}/environment={env_id}"}}
        self.environments[env_id] = env
        return env

    def add_connector(self, env: str, cluster: str, name: str, connector_id: str, state: str = "RUNNING",
                      tasks: tuple[str, ...] = ("RUNNING",), trace: str = "") -> None:
        self.clusters.setdefault(env, [])
        if cluster not in [c["id"] for c in self.clusters[env]]:
            self.clusters[env].append({"id": cluster, "spec": {"display_name": f"{cluster}-name"}})
        connector = {"state": state, "worker_id": name, **({"trace": trace} if trace else {})}
        self.connectors.setdefault((env, cluster), {})[name] = {
            "id": {"id": connector_id, "id_type": "ID"},
            "info": {"name": name, "type": "sink", "config": {}},
            "status": {"name": name, "type": "sink", "connector": connector,
                       "tasks": [{"id": n, "state": s, "worker_id": name} for n, s in enumerate(tasks)]},
        }

    def add_statement(self, name: str, sql: str, phase: str, detail: str = "", principal: str = "sa-flink",
                      pool: str = "lfcp-1") -> None:
        self.statements[name] = {
            "name": name, "organization_id": self.organization,
            "spec": {"statement": sql, "compute_pool_id": pool, "principal": principal,
                     "properties": {"sql.current-catalog": "fraud-env", "sql.current-database": "fraud-kafka"}},
            "status": {"phase": phase, "detail": detail},
        }

    # -- pages
    @staticmethod
    def _page(items: list, query: dict, base: str, path: str) -> dict:
        size = int(query.get("page_size", 10))
        start = int(query.get("page_token", 0))
        following = ""
        if start + size < len(items):
            following = f"{base}{path}?{urlencode({**query, 'page_token': start + size})}"
        return {"api_version": "v2", "kind": "List", "metadata": {"next": following}, "data": items[start:start + size]}

    def cloud_call(self, method, path, query, body, base):
        parts = path.strip("/").split("/")
        if method == "GET" and path == "/org/v2/environments":
            return 200, self._page(list(self.environments.values()), query, base, path)
        if method == "GET" and path.startswith("/org/v2/environments/"):
            env = self.environments.get(parts[-1])
            return (200, env) if env else (404, {"errors": [{"status": "404", "detail": "Not Found"}]})
        if method == "GET" and path == "/cmk/v2/clusters":
            if "environment" not in query:
                return 400, {"errors": [{"detail": "environment is required"}]}
            return 200, self._page(self.clusters.get(query["environment"], []), query, base, path)
        if method == "GET" and path == "/fcpm/v2/regions":
            found = [{"id": f"aws.{self.region}", "cloud": "AWS", "region_name": self.region, "http_endpoint": base}]
            found = [r for r in found if r["cloud"] == query.get("cloud", r["cloud"])
                     and r["region_name"] == query.get("region_name", r["region_name"])]
            return 200, self._page(found, query, base, path)
        match = re.fullmatch(r"/connect/v1/environments/([^/]+)/clusters/([^/]+)/connectors", path)
        if method == "GET" and match:
            if match.group(2) not in [c["id"] for c in self.clusters.get(match.group(1), [])]:
                return 404, {"error_code": 404, "message": "Not Found"}
            found = self.connectors.get((match.group(1), match.group(2)), {})
            if "expand" not in query:
                return 200, list(found)  # without expand: the names only
            wanted = set(query["expand"].split(","))
            return 200, {name: {k: v for k, v in item.items() if k in wanted} for name, item in found.items()}
        return 404, {"errors": [{"status": "404", "detail": f"no route {method} {path}"}]}

    def flink_call(self, method, path, query, body, base):
        root = f"/sql/v1/organizations/{self.organization}/environments/"
        if not path.startswith(root):
            return 404, {"errors": [{"status": "404", "detail": "unknown organization"}]}
        rest = path[len(root):].split("/")
        if rest[0] not in self.environments:
            return 404, {"errors": [{"status": "404", "detail": "unknown environment"}]}
        rest = rest[1:]
        if rest == ["statements"] and method == "GET":
            return 200, self._page(list(self.statements.values()), query, base, path)
        if rest == ["materialized-tables"] and method == "GET":
            return 200, self._page(self.materialized_tables, query, base, path)
        if rest == ["statements"] and method == "POST":
            spec = body.get("spec") or {}
            missing = [k for k in ("compute_pool_id", "principal", "statement") if not spec.get(k)]
            if missing or not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", body.get("name", "")):
                return 400, {"errors": [{"detail": f"invalid statement: missing {missing} or bad name"}]}
            if body["name"] in self.statements:
                return 409, {"errors": [{"detail": "statement already exists"}]}
            self.statements[body["name"]] = {**body, "status": {"phase": "PENDING"}}
            return 200, self.statements[body["name"]]
        if len(rest) >= 2 and rest[0] == "statements":
            statement = self.statements.get(rest[1])
            if statement is None:
                return 404, {"errors": [{"status": "404", "detail": "statement not found"}]}
            if method == "DELETE" and len(rest) == 2:
                self.deleted.append(rest[1])
                del self.statements[rest[1]]
                return 202, {}
            if method == "GET" and len(rest) == 2:
                self._advance(statement)
                return 200, statement
            if method == "GET" and rest[2:] == ["results"]:
                if statement["status"]["phase"] != "COMPLETED":
                    return 400, {"errors": [{"detail": "results are not available yet"}]}
                rows = statement.get("_rows", [])
                if query.get("page_token"):
                    return 200, {"metadata": {"next": ""}, "results": {"data": []}}
                following = f"{base}{path}?page_token=1"
                return 200, {"metadata": {"next": following},
                             "results": {"data": [{"op": 0, "row": row} for row in rows]}}
        return 404, {"errors": [{"status": "404", "detail": f"no route {method} {path}"}]}

    def _advance(self, statement: dict) -> None:
        """A submitted DESCRIBE is PENDING until read once, then COMPLETED with its rows (or FAILED)."""
        sql = statement["spec"]["statement"]
        match = re.fullmatch(r"DESCRIBE `([^`]+)`", sql)
        if statement["status"]["phase"] != "PENDING" or not match:
            return
        table = match.group(1)
        if table not in self.describe_rows:
            statement["status"] = {"phase": "FAILED", "detail": f"Table '{table}' not found"}
            return
        statement["status"] = {"phase": "COMPLETED", "traits": {"sql_kind": "DESCRIBE", "is_bounded": True, "schema": {
            "columns": [{"name": n, "type": {"type": "VARCHAR"}} for n in ("Column Name", "Data Type", "Nullable")]}}}
        statement["_rows"] = self.describe_rows[table]


class FakeOpenSearch(LocalServer):
    def __init__(self, user: str, password: str):
        self.auth = basic(user, password)
        self.indexes: dict[str, list[dict]] = {}
        fake = self

        class Handler(JsonHandler):
            def do_POST(self):
                if self.headers.get("Authorization") != fake.auth:
                    self.answer(401, {"error": "Unauthorized"})
                    return
                match = re.fullmatch(r"/([^/]+)/_search", urlparse(self.path).path)
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                if not match or "query" not in body:
                    self.answer(400, {"error": {"type": "parsing_exception"}, "status": 400})
                    return
                index = match.group(1)
                if index not in fake.indexes:
                    self.answer(404, {"error": {"type": "index_not_found_exception", "index": index}, "status": 404})
                    return
                docs = fake.indexes[index]
                hits = [{"_index": index, "_id": str(n), "_source": doc} for n, doc in enumerate(docs)]
                self.answer(200, {"hits": {"total": {"value": len(docs), "relation": "eq"},
                                           "hits": hits[: body.get("size", 10)]}})

        super().__init__(Handler)


class FakeRedshiftData(LocalServer):
    """The Data API of one cluster, running its SQL on PostgreSQL (``server``: tests.test_redshift_sql.Server)."""

    PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_][A-Za-z0-9_]*)")

    def __init__(self, server, cluster: str, page_rows: int = 2):
        self.pg, self.cluster, self.page_rows = server, cluster, page_rows
        self.statements: dict[str, dict] = {}
        fake = self

        class Handler(JsonHandler):
            content_type = "application/x-amz-json-1.1"

            def do_POST(self):
                auth = self.headers.get("Authorization", "")
                if "Credential=" not in auth or "/redshift-data/aws4_request" not in auth:
                    self.answer(400, {"__type": "MissingAuthenticationTokenException", "message": "not signed"})
                    return
                operation = self.headers.get("X-Amz-Target", "").removeprefix("RedshiftData.")
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                handler = getattr(fake, f"op_{operation}", None)
                if handler is None:
                    self.answer(400, {"__type": "UnknownOperationException", "message": operation})
                    return
                try:
                    self.answer(200, handler(body))
                except LookupError as error:
                    self.answer(400, {"__type": "ResourceNotFoundException", "message": str(error)})
                except ValueError as error:
                    self.answer(400, {"__type": "ValidationException", "message": str(error)})

        super().__init__(Handler)

    def op_ExecuteStatement(self, body: dict) -> dict:
        for field in ("Sql", "Database", "ClusterIdentifier", "DbUser"):
            if not body.get(field):
                raise ValueError(f"{field} is required (this stand-in serves a provisioned cluster with DbUser)")
        if body["ClusterIdentifier"] != self.cluster:
            raise ValueError(f"Redshift endpoint doesn't exist in this region: cluster {body['ClusterIdentifier']}")
        given = {p["name"]: p["value"] for p in body.get("Parameters", [])}
        used = set(self.PARAMETER.findall(body["Sql"]))
        if used != set(given):
            raise ValueError(f"parameters used {sorted(used)} but given {sorted(given)}")
        statement_id = str(uuid.uuid4())
        result = self._run(body["Sql"], body["Database"], body["DbUser"], given)
        self.statements[statement_id] = {"body": body, "described": 0, **result}
        return {"Id": statement_id, "ClusterIdentifier": self.cluster, "Database": body["Database"],
                "DbUser": body["DbUser"], "CreatedAt": time.time()}

    def _run(self, sql: str, database: str, user: str, parameters: dict) -> dict:
        select = sql.lstrip().upper().startswith("SELECT")
        code = self.PARAMETER.sub(lambda m: f":'{m.group(1)}'", sql)
        script = f"SELECT coalesce(json_agg(row_to_json(q)), '[]'::json) FROM ({code}) q;" if select else code
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        variables = [arg for name, value in parameters.items() for arg in ("-v", f"{name}={value}")]
        done = subprocess.run(
            [self.pg.bindir / "psql", "-X", "-w", "-At", "-v", "ON_ERROR_STOP=1", "-h", str(self.pg.socket_dir),
             "-p", str(self.pg.port), "-U", user, "-d", database, *variables, "-f", "-"],
            input=script, env=env, capture_output=True, text=True, timeout=60,
        )
        if done.returncode != 0:
            return {"final": "FAILED", "error": done.stderr.strip(), "rows": [], "select": select}
        rows = [list(row.values()) for row in json.loads(done.stdout)] if select else []
        return {"final": "FINISHED", "error": "", "rows": rows, "select": select}

    def _statement(self, body: dict) -> dict:
        statement = self.statements.get(body.get("Id", ""))
        if statement is None:
            raise LookupError(f"Query does not exist: {body.get('Id')}")
        return statement

    def op_DescribeStatement(self, body: dict) -> dict:
        statement = self._statement(body)
        statement["described"] += 1
        status = "STARTED" if statement["described"] == 1 else statement["final"]
        answer = {"Id": body["Id"], "Status": status, "QueryString": statement["body"]["Sql"],
                  "HasResultSet": status == "FINISHED" and statement["select"],
                  "ClusterIdentifier": self.cluster, "CreatedAt": time.time(), "UpdatedAt": time.time()}
        if status == "FAILED":
            answer["Error"] = statement["error"]
        return answer

    def op_GetStatementResult(self, body: dict) -> dict:
        statement = self._statement(body)
        if statement["described"] < 2 or statement["final"] != "FINISHED" or not statement["select"]:
            raise ValueError("Query does not have result. Please check query status with DescribeStatement.")
        start = int(body.get("NextToken", 0))
        rows = statement["rows"][start:start + self.page_rows]
        answer = {"Records": [[self._field(v) for v in row] for row in rows], "TotalNumRows": len(statement["rows"])}
        if start + self.page_rows < len(statement["rows"]):
            answer["NextToken"] = str(start + self.page_rows)
        return answer

    @staticmethod
    def _field(value) -> dict:
        if value is None:
            return {"isNull": True}
        if isinstance(value, bool):
            return {"booleanValue": value}
        if isinstance(value, int):
            return {"longValue": value}
        if isinstance(value, float):
            return {"doubleValue": value}
        return {"stringValue": str(value)}
