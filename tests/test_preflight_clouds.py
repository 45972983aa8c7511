"""The preflight's two cloud calls, without a cloud: STS GetCallerIdentity against moto and against a local
server answering as STS does to bad credentials; the Confluent Cloud key against a local server answering as
Confluent's Cloud API does to a Cloud key, a Kafka cluster key and a key whose owner may not list environments."""
from __future__ import annotations

import base64
import ipaddress
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlparse

import pytest
import yaml
from moto import mock_aws

from mockcloud.program import ROOT
from preflight.access import Address
from preflight.aws import check_aws
from preflight.confluent import Credential, check_key, find_credential
from preflight.report import FAIL, OK, WARN
from preflight.run import Context, run_checks
from preflight.stack import read_stack
from tests.local_http import JsonHandler, LocalServer
from tests.preflight_standins import bare_env, pulumi_standin  # noqa: F401 (bare_env is a fixture)

CLOUD_KEY, KAFKA_KEY, NO_ROLE_KEY = "CLOUDKEY7QX4ABCD", "KAFKAKEY2ZZ9WXYZ", "NOROLEKEY5KK3MNO"
SECRET = "cfltT8d8RzkNseTMEDKcjNM1BZTFPHqRn/dQm9q7w6SjzZ12wZfwjaJdipHZtDjw"
# What STS answers to an unknown access key (query protocol, as botocore's sts model says).
STS_INVALID_TOKEN = b"""<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>
    <Message>The security token included in the request is invalid.</Message></Error>
  <RequestId>4b1c3e7a-2f0d-4b8e-9c55-0d6f2e1a9b10</RequestId>
</ErrorResponse>"""


# -- AWS ------------------------------------------------------------------------------------------------

def test_missing_aws_credentials_say_how_to_log_in_and_where_the_deploy_goes(bare_env):
    finding = check_aws("eu-central-1")
    assert finding.level == FAIL
    assert finding.message.startswith("no credentials found for the deploy to region eu-central-1:")
    assert "`aws sso login --profile <profile>`" in finding.message and "AWS_ACCESS_KEY_ID" in finding.message


def test_working_aws_credentials_name_the_account_and_region(bare_env, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    with mock_aws():
        finding = check_aws("eu-central-1")
    assert finding.line == (
        "ok    AWS: deploying to account 123456789012, region eu-central-1, as "
        "arn:aws:sts::123456789012:user/moto (credentials from env)"
    )


def test_refused_aws_credentials_are_named_with_stss_own_error(bare_env, monkeypatch):
    calls = []

    class Sts(BaseHTTPRequestHandler):
        def do_POST(self):
            calls.append(parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode()))
            self.send_response(403)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(STS_INVALID_TOKEN)))
            self.end_headers()
            self.wfile.write(STS_INVALID_TOKEN)

        def log_message(self, *args):
            pass

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAI44QH8DHBEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY")
    with LocalServer(Sts) as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", server.url)
        finding = check_aws("eu-central-1")
    assert calls and calls[0]["Action"] == ["GetCallerIdentity"]
    assert finding.level == FAIL
    assert finding.message.startswith(
        "STS refused the credentials from env (InvalidClientTokenId: The security token included in the request is "
        "invalid.): they are wrong or expired;"
    )


# -- Confluent Cloud ------------------------------------------------------------------------------------

class FakeConfluentCloud(LocalServer):
    """GET /org/v2/environments as the Cloud API answers it: the list for a Cloud key, 401 for any other key
    (a Kafka cluster key included), 403 for a Cloud key whose owner may not list environments."""

    def __init__(self):
        self.calls: list[tuple[str, str, dict]] = []
        fake = self

        class Handler(JsonHandler):
            def do_GET(self):
                url = urlparse(self.path)
                auth = self.headers.get("Authorization", "")
                key, _, secret = base64.b64decode(auth.removeprefix("Basic ")).decode().partition(":") if auth else ("", "", "")
                fake.calls.append((url.path, key, parse_qs(url.query)))
                if url.path != "/org/v2/environments":
                    self.answer(404, {"errors": [{"status": "404", "detail": "Not Found"}]})
                elif key == CLOUD_KEY and secret == SECRET:
                    self.answer(200, {"api_version": "org/v2", "kind": "EnvironmentList", "metadata": {}, "data": [
                        {"api_version": "org/v2", "kind": "Environment", "id": "env-a1b2c3", "display_name": "default"}]})
                elif key == NO_ROLE_KEY and secret == SECRET:
                    self.answer(403, {"errors": [{"status": "403", "detail": "Forbidden Access"}]})
                else:
                    self.answer(401, {"errors": [{"id": "5b1e0c", "status": "401", "detail": "Unauthorized", "source": {}}]})

        super().__init__(Handler)


@pytest.fixture
def confluent_cloud():
    with FakeConfluentCloud() as server:
        yield server


def test_a_cloud_key_is_accepted_with_one_call(confluent_cloud):
    finding = check_key(Credential(CLOUD_KEY, SECRET, "CONFLUENT_CLOUD_API_KEY"), confluent_cloud.url)
    assert finding.level == OK
    assert finding.message.startswith(f"key {CLOUD_KEY} (CONFLUENT_CLOUD_API_KEY) is a Cloud resource-management key")
    assert "OrganizationAdmin (not checked here)" in finding.message
    assert confluent_cloud.calls == [("/org/v2/environments", CLOUD_KEY, {"page_size": ["1"]})]
    assert SECRET not in finding.line


def test_a_kafka_cluster_key_or_a_wrong_secret_is_refused_with_what_to_create(confluent_cloud):
    for credential in (Credential(KAFKA_KEY, SECRET, "env"), Credential(CLOUD_KEY, "wrong", "env")):
        finding = check_key(credential, confluent_cloud.url)
        assert finding.level == FAIL
        assert f"Confluent Cloud refused key {credential.key} (env) (HTTP 401 on GET /org/v2/environments)" in finding.message
        assert "resource-specific key (Kafka cluster, Schema Registry, Flink)" in finding.message
        assert "`confluent api-key create --resource cloud`" in finding.message


def test_a_key_that_may_not_list_environments_is_refused_with_the_role_it_needs(confluent_cloud):
    finding = check_key(Credential(NO_ROLE_KEY, SECRET, "env"), confluent_cloud.url)
    assert finding.level == FAIL and "(HTTP 403)" in finding.message and "OrganizationAdmin" in finding.message


def test_an_unreachable_or_strange_api_is_a_problem_not_a_pass(confluent_cloud):
    assert check_key(Credential(CLOUD_KEY, SECRET, "env"), confluent_cloud.url + "/elsewhere").level == FAIL
    with FakeConfluentCloud() as gone:
        url = gone.url
    unreachable = check_key(Credential(CLOUD_KEY, SECRET, "env"), url)
    assert unreachable.level == FAIL and unreachable.message.startswith(f"could not reach {url}/org/v2/environments")


def _stack(tmp_path, **config):
    document = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    document["config"].update(config)
    (tmp_path / "Pulumi.keyed.yaml").write_text(yaml.safe_dump(document))
    return read_stack(tmp_path, "keyed")


def test_missing_confluent_credentials_say_what_to_set(bare_env, tmp_path, monkeypatch):
    credential, [finding] = find_credential(read_stack(ROOT, "dev"), None, ROOT)
    assert credential is None and finding.level == FAIL
    assert finding.message.startswith(
        "confluentcloud:cloudApiKey and confluentcloud:cloudApiSecret not set (neither in Pulumi.dev.yaml nor in the "
        "environment): `pulumi config set --secret confluentcloud:cloudApiKey <value>` and `pulumi config set --secret "
        "confluentcloud:cloudApiSecret <value>` (or export CONFLUENT_CLOUD_API_KEY and CONFLUENT_CLOUD_API_SECRET)"
    )
    monkeypatch.setenv("CONFLUENT_CLOUD_API_KEY", CLOUD_KEY)
    credential, [finding] = find_credential(read_stack(ROOT, "dev"), None, ROOT)
    assert credential is None and finding.message.startswith("confluentcloud:cloudApiSecret not set")


def test_credentials_from_the_environment_are_used_when_the_stack_has_none(bare_env, monkeypatch):
    monkeypatch.setenv("CONFLUENT_CLOUD_API_KEY", CLOUD_KEY)
    monkeypatch.setenv("CONFLUENT_CLOUD_API_SECRET", SECRET)
    credential, findings = find_credential(read_stack(ROOT, "dev"), None, ROOT)
    assert findings == []
    assert credential == Credential(CLOUD_KEY, SECRET, "CONFLUENT_CLOUD_API_KEY; CONFLUENT_CLOUD_API_SECRET")


def test_stack_secrets_are_read_through_the_cli_and_say_so(bare_env, tmp_path, monkeypatch):
    encrypted = {"secure": "v1:Qk9HVVMtQ0lQSEVSVEVYVA=="}
    stack_file = _stack(tmp_path, **{"confluentcloud:cloudApiKey": encrypted, "confluentcloud:cloudApiSecret": encrypted})
    monkeypatch.setenv("CONFLUENT_CLOUD_API_KEY", "IGNOREDKEY")  # stack config comes first, as in settings.py

    credential, [warned, _] = find_credential(stack_file, None, tmp_path)
    assert credential is None and warned.level == WARN
    assert warned.message == (
        "confluentcloud:cloudApiKey is set as a secret in Pulumi.keyed.yaml (a `secure:` value, encrypted; the program "
        "takes it before CONFLUENT_CLOUD_API_KEY); not validated: decrypting it needs the Pulumi CLI")

    log = tmp_path / "pulumi.log"
    cli = pulumi_standin(bare_env, secrets={"confluentcloud:cloudApiKey": CLOUD_KEY, "confluentcloud:cloudApiSecret": SECRET}, log=log)
    credential, findings = find_credential(stack_file, str(cli), tmp_path)
    assert findings == []
    assert (credential.key, credential.secret) == (CLOUD_KEY, SECRET)
    assert credential.source.startswith("confluentcloud:cloudApiKey: secret in Pulumi.keyed.yaml, read with `pulumi config get`")
    assert log.read_text().splitlines() == [
        "config get confluentcloud:cloudApiKey --stack keyed", "config get confluentcloud:cloudApiSecret --stack keyed"]

    cli = pulumi_standin(bare_env, secrets={"confluentcloud:cloudApiKey": CLOUD_KEY})
    credential, [failed] = find_credential(stack_file, str(cli), tmp_path)
    assert credential is None and failed.level == FAIL
    assert "confluentcloud:cloudApiSecret is set as a secret in Pulumi.keyed.yaml, but `pulumi config get " in failed.message
    assert "(error: configuration key 'confluentcloud:cloudApiSecret' not found for stack 'keyed')" in failed.message


def test_a_key_in_plain_text_in_the_stack_file_is_a_problem(bare_env, tmp_path):
    stack_file = _stack(tmp_path, **{"confluentcloud:cloudApiKey": CLOUD_KEY, "confluentcloud:cloudApiSecret": SECRET})
    credential, findings = find_credential(stack_file, None, tmp_path)
    assert credential is not None
    assert [f.message.split(":", 2)[:2] for f in findings] == [
        ["confluentcloud", "cloudApiKey is in plain text in Pulumi.keyed.yaml"],
        ["confluentcloud", "cloudApiSecret is in plain text in Pulumi.keyed.yaml"],
    ]
    assert all(SECRET not in f.line for f in findings)


def test_the_whole_run_checks_the_key_it_found(bare_env, tmp_path, monkeypatch, confluent_cloud):
    (tmp_path / "Pulumi.dev.yaml").write_text((ROOT / "Pulumi.dev.yaml").read_text())
    monkeypatch.setenv("CONFLUENT_CLOUD_API_KEY", KAFKA_KEY)
    monkeypatch.setenv("CONFLUENT_CLOUD_API_SECRET", SECRET)
    here = Address(ipaddress.ip_address("81.2.69.160"))
    findings = run_checks("dev", "up", Context(stack_dir=tmp_path, lookup_address=lambda: here, confluent_url=confluent_cloud.url))
    [key] = [f for f in findings if f.check == "Confluent Cloud key"]
    assert key.level == FAIL and f"refused key {KAFKA_KEY}" in key.message
    assert [call[1] for call in confluent_cloud.calls] == [KAFKA_KEY]
