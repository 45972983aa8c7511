"""`make prices` (planner/update_prices.py) against stand-ins: a local AWS Price List Query API and a `confluent` CLI.

The stand-in API speaks the JSON 1.1 protocol boto3 uses for the pricing client (POST /, X-Amz-Target
AWSPriceListService.GetProducts, a SigV4 signature scoped to us-east-1/pricing), validates the request as the
API reference documents it (https://docs.aws.amazon.com/goto/WebAPI/pricing-2017-10-15/GetProducts: ServiceCode
required, at most 50 filters of a documented type, MaxResults 1-100, NextToken only as issued) and answers
PriceList items shaped like the offer files' products (product, terms.OnDemand.priceDimensions.pricePerUnit.USD,
effectiveDate). The prices in this file are made up for the tests: they are no vendor's figures.
"""
from __future__ import annotations

import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
import yaml
from rich.console import Console

from planner.__main__ import render, to_json
from planner.plan import build
from planner.table import TABLE_PATH, Table
from planner.update_prices import (AmbiguousPrice, Query, Rate, confluent_rows, get_product, main, read_aws,
                                   update, write_rates)
from tests.local_http import JsonHandler, LocalServer

ROOT = Path(__file__).resolve().parent.parent
REGION = "eu-central-1"
FILTER_TYPES = {"TERM_MATCH", "EQUALS", "CONTAINS", "ANY_OF", "NONE_OF"}


def product(service: str, sku: str, family: str, usd: float, unit: str, effective: str = "2026-11-01T00:00:00Z",
            **attributes: str) -> dict:
    """A PriceList item as GetProducts returns it (one product with its on-demand term)."""
    term, rate = f"{sku}.JRTCKXETXF", f"{sku}.JRTCKXETXF.6YS6EN2CT7"
    return {
        "product": {"productFamily": family, "attributes": {"servicecode": service, **attributes}, "sku": sku},
        "serviceCode": service,
        "terms": {"OnDemand": {term: {
            "priceDimensions": {rate: {"unit": unit, "endRange": "Inf", "beginRange": "0", "appliesTo": [],
                                       "rateCode": rate, "description": f"{usd} per {unit}",
                                       "pricePerUnit": {"USD": f"{usd:.10f}"}}},
            "sku": sku, "effectiveDate": effective, "offerTermCode": "JRTCKXETXF", "termAttributes": {}}}},
        "version": "20261120000000",
        "publicationDate": "2026-11-20T00:00:00Z",
    }


def box(sku: str, instance_type: str, usd: float, region: str = REGION, code: str = "EUC1", **overrides: str) -> dict:
    attributes = dict(regionCode=region, location="EU (Frankfurt)", usagetype=f"{code}-BoxUsage:{instance_type}",
                      instanceType=instance_type, operatingSystem="Linux", tenancy="Shared", preInstalledSw="NA",
                      capacitystatus="Used", operation="RunInstances", licenseModel="No License required")
    return product("AmazonEC2", sku, "Compute Instance", usd, "Hrs", **{**attributes, **overrides})


def eu(service: str, sku: str, family: str, usd: float, unit: str, usagetype: str, **attributes: str) -> dict:
    return product(service, sku, family, usd, unit, regionCode=REGION, location="EU (Frankfurt)",
                   usagetype=usagetype, **attributes)


# Every product the dev and ha stacks and the original demo price, plus look-alikes the filters must leave out.
CATALOG = [
    box("EC2LARGE", "t3.large", 0.1),
    box("EC2XLARGE", "t3.xlarge", 0.2),
    box("EC2C6A", "c6a.large", 0.09),
    box("EC2WIN", "t3.large", 0.5, operatingSystem="Windows", operation="RunInstances:0002"),
    box("EC2UNUSED", "t3.large", 0.1, capacitystatus="UnusedCapacityReservation", usagetype="EUC1-UnusedBox:t3.large"),
    box("EC2USE1", "t3.large", 0.08, region="us-east-1", code="USE1"),
    eu("AmazonEC2", "NATH", "NAT Gateway", 0.05, "Hrs", "EUC1-NatGateway-Hours", operation="NatGateway"),
    eu("AmazonEC2", "NATB", "NAT Gateway", 0.05, "GB", "EUC1-NatGateway-Bytes", operation="NatGateway"),
    eu("AmazonEC2", "GP3", "Storage", 0.1, "GB-Mo", "EUC1-EBS:VolumeUsage.gp3", volumeApiName="gp3"),
    eu("AWSELB", "ALBH", "Load Balancer-Application", 0.03, "Hrs", "EUC1-LoadBalancerUsage"),
    eu("AWSELB", "ALBLCU", "Load Balancer-Application", 0.01, "LCU-Hrs", "EUC1-LCUUsage"),
    eu("AWSELB", "NLBH", "Load Balancer-Network", 0.03, "Hrs", "EUC1-LoadBalancerUsage"),
    eu("AmazonRedshift", "RSL", "Compute Instance", 0.5, "Hrs", "EUC1-Node:ra3.large", instanceType="ra3.large"),
    eu("AmazonRedshift", "RSXL", "Compute Instance", 1.2, "Hrs", "EUC1-Node:ra3.xlplus", instanceType="ra3.xlplus"),
    eu("AmazonES", "ESS", "Amazon OpenSearch Service Instance", 0.04, "Hrs", "EUC1-ESInstance:t3.small",
       instanceType="t3.small.search"),
    eu("AmazonES", "ESM", "Amazon OpenSearch Service Instance", 0.15, "Hrs", "EUC1-ESInstance:m6g.large",
       instanceType="m6g.large.search"),
    eu("AmazonES", "ESGP3", "Amazon OpenSearch Service Volume", 0.13, "GB-Mo", "EUC1-ES:GP3-Storage", storageMedia="GP3"),
    eu("AmazonEKS", "EKSAUTO", "EKS Auto Mode", 0.01, "Hrs", "EUC1-AutoMode:c6a.large", instanceType="c6a.large"),
]

# The Confluent price list as `confluent billing price list --cloud aws --region eu-central-1 -o json` prints it
# (confluentinc/cli internal/billing/command_price_list.go, serializedOut; zero prices are left out by the CLI).
PRICE_LIST = [
    {"metric": "KafkaNumCKUs", "cluster_type": "basic", "availability": "low", "network_type": "internet", "price": 0.2},
    {"metric": "KafkaNumCKUs", "cluster_type": "standard", "availability": "low", "network_type": "internet", "price": 0.9},
    {"metric": "KafkaNumCKUs", "cluster_type": "standard", "availability": "high", "network_type": "internet", "price": 0.9},
    {"metric": "KafkaNumCKUs", "cluster_type": "standard", "availability": "high", "network_type": "private-link", "price": 1.4},
    {"metric": "ConnectNumTasks", "cluster_type": "basic", "availability": "low", "network_type": "internet", "price": 0.05},
    {"metric": "ConnectNumTasks", "cluster_type": "standard", "availability": "high", "network_type": "internet", "price": 0.05},
    {"metric": "KafkaNetworkRead", "cluster_type": "basic", "availability": "low", "network_type": "internet", "price": 0.06},
]


class PricingApi(JsonHandler):
    """GetProducts of the AWS Price List Query API over JSON 1.1, paging through matching products."""

    content_type = "application/x-amz-json-1.1"
    catalog: list[dict] = CATALOG
    page_size = 100
    empty_first_page = False
    requests: list[dict] = []

    def error(self, type_: str, message: str) -> None:
        self.answer(400, {"__type": type_, "message": message})

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
        auth = self.headers.get("Authorization", "")
        if not re.match(r"AWS4-HMAC-SHA256 Credential=\w+/\d{8}/us-east-1/pricing/aws4_request", auth):
            return self.error("InvalidSignatureException", "requests are signed for us-east-1, service pricing")
        if self.headers.get("X-Amz-Target") != "AWSPriceListService.GetProducts":
            return self.error("UnknownOperationException", f"unknown operation {self.headers.get('X-Amz-Target')}")
        if self.headers.get("Content-Type") != "application/x-amz-json-1.1" or self.path != "/":
            return self.error("SerializationException", "expected POST / with application/x-amz-json-1.1")
        type(self).requests.append(body)
        service, filters = body.get("ServiceCode"), body.get("Filters", [])
        if not isinstance(service, str) or not service:
            return self.error("InvalidParameterException", "ServiceCode is required")
        if len(filters) > 50 or any(f.get("Type") not in FILTER_TYPES or not f.get("Field") or "Value" not in f
                                    for f in filters):
            return self.error("InvalidParameterException", f"invalid filters {filters}")
        if body.get("FormatVersion", "aws_v1") != "aws_v1" or not 1 <= body.get("MaxResults", 100) <= 100:
            return self.error("InvalidParameterException", "FormatVersion aws_v1, MaxResults 1-100")
        if any(f["Type"] != "TERM_MATCH" for f in filters):
            return self.error("InvalidParameterException", "this stand-in answers TERM_MATCH filters only")

        def field(item: dict, name: str) -> str | None:
            if name == "ServiceCode":
                return item["serviceCode"]
            if name == "productFamily":
                return item["product"]["productFamily"]
            return item["product"]["attributes"].get(name)

        matching = [item for item in self.catalog if item["serviceCode"] == service
                    and all(field(item, f["Field"]) == f["Value"] for f in filters)]
        token = body.get("NextToken")
        if token is not None and not re.fullmatch(r"page-\d+", token):
            return self.error("InvalidNextTokenException", "the pagination token is invalid")
        page = int(token.split("-")[1]) if token else 0
        if self.empty_first_page:  # "Responses might return fewer results even when more total results exist"
            if page == 0:
                return self.answer(200, {"FormatVersion": "aws_v1", "PriceList": [], "NextToken": "page-1"})
            page -= 1
        size = min(self.page_size, body.get("MaxResults", 100))
        chunk = matching[page * size:(page + 1) * size]
        answer = {"FormatVersion": "aws_v1", "PriceList": [json.dumps(item) for item in chunk]}
        if (page + 1) * size < len(matching):
            answer["NextToken"] = f"page-{page + 1 + int(self.empty_first_page)}"
        self.answer(200, answer)


def api(**attributes) -> type[PricingApi]:
    return type("Api", (PricingApi,), {"requests": [], **attributes})


def client(server: LocalServer):
    return boto3.client("pricing", region_name="us-east-1", endpoint_url=server.url,
                        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret")


EC2_T3_LARGE = Query("AmazonEC2", (("regionCode", REGION), ("usagetype", "EUC1-BoxUsage:t3.large"),
                                   ("instanceType", "t3.large"), ("operatingSystem", "Linux"), ("tenancy", "Shared"),
                                   ("preInstalledSw", "NA"), ("capacitystatus", "Used"),
                                   ("operation", "RunInstances")), "hour")


def test_a_found_product_gives_its_on_demand_price_unit_and_effective_date():
    handler = api()
    with LocalServer(handler) as server:
        rate = read_aws(client(server), [EC2_T3_LARGE], "2026-12-05")
    assert isinstance(rate, Rate) and rate.usd == 0.1 and rate.unit == "Hrs" and rate.taken == "2026-12-05"
    for text in ("Price List Query API", "AmazonEC2 EUC1-BoxUsage:t3.large", "SKU EC2LARGE", "effective 2026-11-01T00:00:00Z",
                 "published 2026-11-20T00:00:00Z", "read 2026-12-05"):
        assert text in rate.source
    request = handler.requests[0]
    assert request["ServiceCode"] == "AmazonEC2" and request["FormatVersion"] == "aws_v1"
    assert {(f["Type"], f["Field"], f["Value"]) for f in request["Filters"]} >= {
        ("TERM_MATCH", "usagetype", "EUC1-BoxUsage:t3.large"), ("TERM_MATCH", "regionCode", REGION)}


def test_a_product_that_is_not_there_stays_unknown_naming_the_filters():
    with LocalServer(api()) as server:
        answer = read_aws(client(server), [Query("AmazonEC2", (("regionCode", REGION), ("usagetype", "EUC1-BoxUsage:t9.huge")),
                                                 "hour")], "2026-12-05")
    assert not isinstance(answer, Rate)
    assert "no product matches AmazonEC2 regionCode=eu-central-1, usagetype=EUC1-BoxUsage:t9.huge" in answer.reason


def test_several_products_fail_loudly_naming_the_filters():
    loose = Query("AmazonEC2", (("usagetype", "EUC1-BoxUsage:t3.large"),), "hour")  # Linux and Windows both match
    with LocalServer(api()) as server, pytest.raises(AmbiguousPrice) as error:
        read_aws(client(server), [loose], "2026-12-05")
    assert "2 products match AmazonEC2 usagetype=EUC1-BoxUsage:t3.large" in str(error.value)
    assert "EC2LARGE" in str(error.value) and "EC2WIN" in str(error.value)


def test_paging_follows_next_token_to_the_product_and_to_a_second_match():
    found_late = api(empty_first_page=True)
    with LocalServer(found_late) as server:
        rate = read_aws(client(server), [EC2_T3_LARGE], "2026-12-05")
    assert isinstance(rate, Rate) and rate.usd == 0.1
    assert [r.get("NextToken") for r in found_late.requests] == [None, "page-1"]

    one_per_page = api(page_size=1)
    loose = Query("AmazonEC2", (("usagetype", "EUC1-BoxUsage:t3.large"),), "hour")
    with LocalServer(one_per_page) as server, pytest.raises(AmbiguousPrice):
        get_product(client(server), loose)
    assert len(one_per_page.requests) == 2  # the second match only shows on the second page


def test_a_tiered_or_differently_metered_price_is_refused():
    tiered = eu("AmazonEC2", "NATH", "NAT Gateway", 0.05, "Hrs", "EUC1-NatGateway-Hours")
    dimensions = next(iter(tiered["terms"]["OnDemand"].values()))["priceDimensions"]
    dimensions["second"] = {**next(iter(dimensions.values())), "beginRange": "100"}
    nat = Query("AmazonEC2", (("regionCode", REGION), ("usagetype", "EUC1-NatGateway-Hours")), "hour")
    with LocalServer(api(catalog=[tiered])) as server, pytest.raises(AmbiguousPrice, match="2 on-demand price dimensions"):
        read_aws(client(server), [nat], "2026-12-05")
    as_gb = Query("AmazonEC2", (("regionCode", REGION), ("usagetype", "EUC1-NatGateway-Hours")), "GB")
    with LocalServer(api()) as server, pytest.raises(AmbiguousPrice, match="priced per 'Hrs', not per GB"):
        read_aws(client(server), [as_gb], "2026-12-05")


# --- the Confluent CLI stand-in ----------------------------------------------------------------------------

STANDIN = '''#!{python}
"""Stand-in for `confluent billing price list` (flags and JSON as confluentinc/cli command_price_list.go has them)."""
import json, os, sys
args = sys.argv[1:]
if args[:3] != ["billing", "price", "list"]:
    sys.exit("Error: unknown command " + " ".join(args[:3]))
flags, rest = {{}}, args[3:]
known = {{"--cloud", "--region", "--availability", "--cluster-type", "--network-type", "--metric", "-o", "--output"}}
while rest:
    flag = rest.pop(0)
    if flag not in known or not rest:
        sys.exit("Error: unknown flag: " + flag)
    flags[flag] = rest.pop(0)
if "--cloud" not in flags or "--region" not in flags:
    sys.exit('Error: required flag(s) "cloud", "region" not set')
if os.environ.get("STANDIN_LOGGED_OUT"):
    sys.exit("Error: you must log in to Confluent Cloud to use this command")
rows = [r for r in json.load(open(os.environ["STANDIN_PRICE_LIST"]))]
rows = [r for r in rows if flags["--region"] == os.environ["STANDIN_REGION"]]
if flags.get("-o", flags.get("--output")) != "json":
    sys.exit("this stand-in prints JSON only")
print(json.dumps(rows, indent=2))
'''


@pytest.fixture
def confluent_cli(tmp_path, monkeypatch):
    """A `confluent` on PATH that prints PRICE_LIST for eu-central-1."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "confluent"
    script.write_text(STANDIN.format(python=sys.executable))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    rows = tmp_path / "price-list.json"
    rows.write_text(json.dumps(PRICE_LIST))
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("STANDIN_PRICE_LIST", str(rows))
    monkeypatch.setenv("STANDIN_REGION", REGION)
    return rows


def test_confluent_rows_come_from_the_cli_json(confluent_cli):
    rows = confluent_rows(REGION)
    assert rows == PRICE_LIST


def test_missing_or_logged_out_confluent_cli_is_one_reason(confluent_cli, monkeypatch):
    monkeypatch.setenv("STANDIN_LOGGED_OUT", "1")
    answer = confluent_rows(REGION)
    assert "must log in to Confluent Cloud" in answer.reason and "confluent login" in answer.reason
    answer = confluent_rows(REGION, which=lambda name: None)
    assert answer.reason == "the Confluent CLI (`confluent`) is not on PATH"


# --- write-back on a copy of prices.yaml --------------------------------------------------------------------

@pytest.fixture
def table_copy(tmp_path) -> Path:
    path = tmp_path / "prices.yaml"
    shutil.copy(TABLE_PATH, path)
    return path


def lines_of(plans) -> list:
    return [line for plan in plans for line in (*plan.costs.lines, *plan.original_costs.lines)]


def plans(path: Path, dev, ha) -> list:
    table = Table.load(path)
    return [build(dev, "dev", REGION, table=table), build(ha, "ha", REGION, table=table)]


def run_update(path: Path, dev, ha, server: LocalServer, **options):
    out = io.StringIO()
    outcome = update(path, REGION, lines_of(plans(path, dev, ha)), lambda: client(server), confluent_rows,
                     today="2026-12-05", out=out, **options)
    return outcome, out.getvalue()


def test_write_back_keeps_every_comment_and_sourced_line(table_copy, dev, ha, confluent_cli):
    original = table_copy.read_text()
    with LocalServer(api()) as server:
        outcome, printed = run_update(table_copy, dev, ha, server)
    assert not outcome.failed
    written = table_copy.read_text()
    comments = [line for line in original.splitlines() if line.lstrip().startswith("#")]
    assert comments and all(comment in written.splitlines() for comment in comments)
    before, after = yaml.safe_load(original), yaml.safe_load(written)
    def without_regions(entry: dict) -> dict:
        return {k: v for k, v in entry.items() if k != "regions"}

    for name, entry in before["prices"].items():  # hand-sourced rates and every key but the regions stay
        assert without_regions(after["prices"][name]) == without_regions(entry)
        if entry.get("all_regions") is not None:
            assert after["prices"][name] == entry
    assert {k: v for k, v in after.items() if k != "prices"} == {k: v for k, v in before.items() if k != "prices"}
    nat = after["prices"]["nat_gateway"]["regions"][REGION]
    assert nat["usd"] == 0.05 and nat["taken"] == "2026-12-05" and "EUC1-NatGateway-Hours" in nat["source"]
    assert after["prices"]["ec2_instance"]["regions"][REGION]["t3.xlarge"]["usd"] == 0.2
    assert after["prices"]["confluent_cluster_ecku"]["regions"][REGION] == {
        "basic": after["prices"]["confluent_cluster_ecku"]["regions"][REGION]["basic"],
        "standard": after["prices"]["confluent_cluster_ecku"]["regions"][REGION]["standard"]}
    assert after["prices"]["confluent_cluster_ecku"]["regions"][REGION]["standard"]["usd"] == 0.9  # not private link
    assert "nat_gateway (eu-central-1): UNKNOWN -> 0.05 USD/Hrs" in printed
    assert "stream_governance [ADVANCED], stream_governance [ESSENTIALS]" in printed  # no such rate in the price list
    assert "eks_auto_mode_compute: Auto Mode picks the node's instance type" in printed

    # A second run finds nothing new to ask for and writes nothing; --refresh reads the filled rates again.
    with LocalServer(api()) as server:
        again, printed = run_update(table_copy, dev, ha, server)
    assert not again.filled and table_copy.read_text() == written
    catalog = [box("EC2LARGE", "t3.large", 0.11) if p["product"]["sku"] == "EC2LARGE" else p for p in CATALOG]
    with LocalServer(api(catalog=catalog)) as server:
        refreshed, printed = run_update(table_copy, dev, ha, server, refresh=True)
    assert "ec2_instance [t3.large] (eu-central-1): 0.1 -> 0.11 USD/Hrs" in printed
    assert yaml.safe_load(table_copy.read_text())["prices"]["ec2_instance"]["regions"][REGION]["t3.large"]["usd"] == 0.11
    assert yaml.safe_load(table_copy.read_text())["prices"]["public_ipv4"] == before["prices"]["public_ipv4"]


def test_a_fully_answered_copy_has_no_unknown_and_shows_the_ratio_to_the_original(table_copy, dev, ha, confluent_cli):
    # What the two sources cannot answer is supplied as a user would: Auto Mode's instance type as read from a
    # running cluster (the assumption), and a Stream Governance rate written by hand with its source.
    text = table_copy.read_text().replace("eks_auto_mode_instance_type: null", "eks_auto_mode_instance_type: c6a.large")
    table_copy.write_text(text)
    with LocalServer(api()) as server:
        outcome, _ = run_update(table_copy, dev, ha, server)
    assert not outcome.failed
    eks = yaml.safe_load(table_copy.read_text())["prices"]["eks_auto_mode_compute"]["regions"][REGION]["c6a.large"]
    assert eks["usd"] == pytest.approx(0.09 + 0.01)  # the instance plus the Auto Mode fee
    assert "EUC1-BoxUsage:c6a.large" in eks["source"] and "EUC1-AutoMode:c6a.large" in eks["source"]
    by_hand = "test: a package rate entered by hand"
    write_rates(table_copy, REGION, {("stream_governance", package): Rate(0.01, "USD/Hour", by_hand, "2026-12-05")
                                     for package in ("ESSENTIALS", "ADVANCED")})

    dev_plan, ha_plan = plans(table_copy, dev, ha)
    for plan in (dev_plan, ha_plan):
        assert plan.costs.complete and plan.original_costs.complete, [
            line.item for line in (*plan.costs.lines, *plan.original_costs.lines) if line.hourly_usd is None]
        assert plan.cost_ratio is not None
    assert to_json(dev_plan)["cost"]["ratioToOriginalDemo"] == pytest.approx(dev_plan.cost_ratio, abs=1e-4)
    console = Console(file=io.StringIO(), width=400)
    render(dev_plan, console)
    shown = console.file.getvalue()
    assert "UNKNOWN" not in shown
    totals = [line for line in shown.splitlines() if line.startswith(("Total: $", "This stack: $"))]
    assert len(totals) == 2 and not any("at least" in line for line in totals), totals
    assert f"Ratio to the original: {dev_plan.cost_ratio:.0%}" in shown
    assert "AWS Price List Query API" in shown and "Confluent organization price list" in shown and by_hand in shown


def test_prices_that_differ_within_a_variant_fail_loudly(table_copy, dev, ha, confluent_cli):
    confluent_cli.write_text(json.dumps([*PRICE_LIST, {"metric": "KafkaNumCKUs", "cluster_type": "standard",
                                                       "availability": "high", "network_type": "internet", "price": 1.1}]))
    with LocalServer(api()) as server:
        outcome, printed = run_update(table_copy, dev, ha, server)
    failed = outcome.failed[("confluent_cluster_ecku", "standard")]
    assert "KafkaNumCKUs for cluster type standard has 2 prices" in failed and "by cluster type, not by availability" in failed
    assert "FAILED confluent_cluster_ecku [standard]" in printed
    assert yaml.safe_load(table_copy.read_text())["prices"]["confluent_cluster_ecku"]["regions"][REGION].get("standard") is None


def test_make_prices_without_credentials_or_cli_says_so_and_changes_nothing(tmp_path):
    """The Makefile target on a machine like this one: no AWS credentials, no `confluent` on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(PATH="/usr/bin:/bin", AWS_CONFIG_FILE=str(tmp_path / "none"),
               AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"), AWS_EC2_METADATA_DISABLED="true")
    before = TABLE_PATH.read_bytes()

    def make(*args: str) -> subprocess.CompletedProcess:
        # -o: the virtualenv counts as built; the running interpreter is the Makefile's Python.
        return subprocess.run([shutil.which("make"), "--no-print-directory", "-C", str(ROOT), "-o",
                               f"{tmp_path}/venv/.installed", f"VENV={tmp_path}/venv", f"PY={sys.executable}",
                               "prices", *args], env=env, capture_output=True, text=True, timeout=300)

    plain = make()
    assert plain.returncode == 0, plain.stderr
    assert "planner.update_prices --stack dev" in plain.stdout
    assert "AWS Price List Query API not usable here (NoCredentialsError" in plain.stdout
    assert "the Confluent CLI (`confluent`) is not on PATH: the Confluent rates stay UNKNOWN" in plain.stdout
    assert "0 rate(s) written" in plain.stdout
    # STRICT= and REGION= only change the command line; what --strict then does is proven in-process below.
    strict = make("-n", "STRICT=1", "REGION=eu-central-1")
    assert strict.returncode == 0 and re.search(r"--stack dev --region eu-central-1 +--strict$", strict.stdout.strip())
    assert TABLE_PATH.read_bytes() == before


def test_strict_without_credentials_or_cli_exits_non_zero_and_changes_nothing(table_copy, monkeypatch):
    for variable in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(variable)
    for variable, value in {"PATH": "/usr/bin:/bin", "AWS_CONFIG_FILE": str(table_copy.parent / "none"),
                            "AWS_SHARED_CREDENTIALS_FILE": str(table_copy.parent / "none"),
                            "AWS_EC2_METADATA_DISABLED": "true"}.items():
        monkeypatch.setenv(variable, value)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # no credentials another test's session may hold
    before = table_copy.read_bytes()
    assert main(["--stack", "dev", "--region", REGION, "--strict", "--table", str(table_copy)]) == 2  # UNKNOWN left
    assert table_copy.read_bytes() == before


def test_main_reads_the_stacks_region_and_the_endpoint_boto3_is_pointed_at(table_copy, confluent_cli, monkeypatch):
    with LocalServer(api()) as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL_PRICING", server.url)  # boto3's own per-service endpoint setting
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
        assert main(["--stack", "dev", "--table", str(table_copy)]) == 0
    filled = yaml.safe_load(table_copy.read_text())["prices"]
    assert filled["alb_lcu"]["regions"][REGION]["usd"] == 0.01 and "EUC1-LCUUsage" in filled["alb_lcu"]["regions"][REGION]["source"]


def test_makefile_prices_target_runs_the_updater_for_the_stacks_region():
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^prices: venv\n\t(.+)$", makefile, flags=re.MULTILINE).group(1)
    assert recipe.startswith("$(PY) -m planner.update_prices --stack $(STACK)")
    assert "--strict" in recipe and "--refresh" in recipe and "--region" in recipe
    assert re.search(r"^STACK \?= dev$", makefile, flags=re.MULTILINE)
