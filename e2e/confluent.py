"""Confluent Cloud's REST APIs, as the e2e checks, diagnostics and leftover checks read them.

Endpoints used (Confluent's API reference, read 2026-12-01):

- Cloud API, ``https://api.confluent.cloud``, HTTP basic auth with the Cloud API key:
  - ``GET /org/v2/environments`` and ``GET /org/v2/environments/{id}`` (display name; the organization id is in
    ``metadata.resource_name``, a CRN): https://docs.confluent.io/cloud/current/ccloud/environments-org-v-2/
  - ``GET /cmk/v2/clusters?environment={env}``: https://docs.confluent.io/cloud/current/clusters/view-cluster.html
  - ``GET /connect/v1/environments/{env}/clusters/{cluster}/connectors?expand=info,status,id`` (state, trace and
    tasks of every connector, keyed by name):
    https://docs.confluent.io/cloud/current/ccloud/list-connectv-1-connectors-with-expansions/ and, for the
    status fields, https://docs.confluent.io/cloud/current/ccloud/read-connectv-1-connector-status/
  - ``GET /fcpm/v2/regions?cloud=AWS&region_name={region}`` (the Flink REST endpoint of a region):
    https://docs.confluent.io/cloud/current/ccloud/regions-fcpm-v-2/
- Flink REST API, ``https://flink.{region}.aws.confluent.cloud``, HTTP basic auth with a Flink API key
  (https://docs.confluent.io/cloud/current/flink/operate-and-deploy/flink-rest-api.html):
  - ``GET|POST /sql/v1/organizations/{org}/environments/{env}/statements``, ``GET|DELETE .../statements/{name}``:
    https://docs.confluent.io/cloud/current/ccloud/list-sqlv-1-statements/ and
    https://docs.confluent.io/cloud/current/ccloud/get-sqlv-1-statement/ (``status.phase``: PENDING, RUNNING,
    COMPLETED, DELETING, FAILING, FAILED, STOPPING, STOPPED, DEGRADED; ``status.detail``)
  - ``GET .../statements/{name}/results``: https://docs.confluent.io/cloud/current/ccloud/get-sqlv-1-statement-result/
  - ``GET /sql/v1/organizations/{org}/environments/{env}/materialized-tables``:
    https://docs.confluent.io/cloud/current/ccloud/list-sqlv-1-materialized-tables/

Collections are paged: each page's ``metadata.next`` is the URL of the next one.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

import requests

CLOUD_API = "https://api.confluent.cloud"
PAGE_SIZE = 100
REQUEST_TIMEOUT_SECONDS = 30
ORGANIZATION_IN_CRN = re.compile(r"/organization=([^/]+)")


class ConfluentApiError(Exception):
    """An answer other than the documented success; the message has the method, URL, status and body."""

    def __init__(self, method: str, url: str, response: requests.Response):
        self.status = response.status_code
        super().__init__(f"{method} {url} answered HTTP {response.status_code}: {response.text[:500]}")


class RestClient:
    """JSON over HTTP basic auth, with errors that say which call failed."""

    def __init__(self, base_url: str, key: str, secret: str, session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.auth = (key, secret)
        self.session = session or requests.Session()

    def call(self, method: str, path_or_url: str, params: dict | None = None, body: dict | None = None,
             allow: tuple[int, ...] = ()) -> dict | None:
        """The decoded answer; None for an allowed non-2xx status (e.g. 404 of something already gone)."""
        url = path_or_url if path_or_url.startswith("http") else f"{self.base_url}{path_or_url}"
        response = self.session.request(method, url, params=params, json=body, auth=self.auth,
                                        headers={"Accept": "application/json"}, timeout=REQUEST_TIMEOUT_SECONDS)
        if response.status_code in allow:
            return None
        if not 200 <= response.status_code < 300:
            raise ConfluentApiError(method, url, response)
        return response.json() if response.content else {}

    def pages(self, path: str, params: dict | None = None) -> Iterator[dict]:
        """Every item of a paged collection, following ``metadata.next``."""
        answer = self.call("GET", path, {**(params or {}), "page_size": PAGE_SIZE})
        while True:
            yield from answer.get("data") or []
            following = (answer.get("metadata") or {}).get("next")
            if not following:
                return
            answer = self.call("GET", following)


class CloudApi(RestClient):
    """The Cloud API with a Cloud resource management key."""

    def __init__(self, key: str, secret: str, session: requests.Session | None = None, base_url: str = CLOUD_API):
        super().__init__(base_url, key, secret, session)

    def environments_named(self, display_name: str) -> list[dict]:
        return [env for env in self.pages("/org/v2/environments") if env.get("display_name") == display_name]

    def environment(self, environment_id: str) -> dict | None:
        return self.call("GET", f"/org/v2/environments/{environment_id}", allow=(404,))

    def clusters(self, environment_id: str) -> list[dict]:
        return list(self.pages("/cmk/v2/clusters", {"environment": environment_id}))

    def connectors(self, environment_id: str, cluster_id: str) -> dict[str, dict]:
        """Connector name -> {"id": {...}, "info": {...}, "status": {"connector": {...}, "tasks": [...]}}."""
        path = f"/connect/v1/environments/{environment_id}/clusters/{cluster_id}/connectors"
        return self.call("GET", path, {"expand": "info,status,id"}) or {}

    def flink_endpoint(self, cloud: str, region: str) -> str:
        regions = list(self.pages("/fcpm/v2/regions", {"cloud": cloud, "region_name": region}))
        if not regions or not regions[0].get("http_endpoint"):
            raise ValueError(f"Confluent lists no Flink region {cloud} {region} (GET /fcpm/v2/regions)")
        return regions[0]["http_endpoint"]


def organization_id(environment: dict) -> str:
    """The organization of an environment, from its CRN (``crn://confluent.cloud/organization=<id>/...``)."""
    crn = (environment.get("metadata") or {}).get("resource_name", "")
    match = ORGANIZATION_IN_CRN.search(crn)
    if not match:
        raise ValueError(f"environment {environment.get('id')}: no organization in resource_name {crn!r}")
    return match.group(1)


class FlinkApi(RestClient):
    """The Flink REST API of one region, for one environment."""

    def __init__(self, endpoint: str, organization: str, environment: str, key: str, secret: str,
                 session: requests.Session | None = None):
        super().__init__(endpoint, key, secret, session)
        self.root = f"/sql/v1/organizations/{organization}/environments/{environment}"
        self.organization, self.environment = organization, environment

    def statements(self) -> list[dict]:
        return list(self.pages(f"{self.root}/statements"))

    def materialized_tables(self) -> list[dict]:
        return list(self.pages(f"{self.root}/materialized-tables"))

    def statement(self, name: str) -> dict | None:
        return self.call("GET", f"{self.root}/statements/{name}", allow=(404,))

    def submit(self, name: str, sql: str, compute_pool_id: str, principal: str, properties: dict) -> dict:
        body = {
            "name": name,
            "organization_id": self.organization,
            "environment_id": self.environment,
            "spec": {"statement": sql, "compute_pool_id": compute_pool_id, "principal": principal,
                     "properties": properties},
        }
        return self.call("POST", f"{self.root}/statements", body=body)

    def results(self, name: str, max_pages: int = 20) -> list[list]:
        """The rows of a finished statement (``results.data[].row``), following ``metadata.next``."""
        rows: list[list] = []
        answer = self.call("GET", f"{self.root}/statements/{name}/results")
        for _ in range(max_pages):
            data = (answer.get("results") or {}).get("data") or []
            rows += [item.get("row", []) for item in data]
            following = (answer.get("metadata") or {}).get("next")
            if not following or not data:
                break
            answer = self.call("GET", following)
        return rows

    def delete(self, name: str) -> None:
        self.call("DELETE", f"{self.root}/statements/{name}", allow=(404,))
