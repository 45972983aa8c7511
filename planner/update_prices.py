"""`make prices`: fill the UNKNOWN regional rates of planner/prices.yaml from the vendors' own price sources.

Nothing reachable from the development machines answers these (prices.yaml `searched`), so this runs where
credentials exist:

- AWS rates come from the Price List Query API, `GetProducts` with TERM_MATCH filters on the offer files'
  attributes (service code, regionCode, usagetype, instanceType, ...). The API is served from us-east-1 (and
  ap-south-1), whatever region is priced. Sources, read 2026-12-01:
  https://docs.aws.amazon.com/goto/WebAPI/pricing-2017-10-15/GetProducts (request, paging with NextToken:
  "continue pagination until you receive a response without a NextToken"; MaxResults at most 100),
  https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_pricing_Filter.html (TERM_MATCH),
  https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/using-price-list-query-api.html (endpoints),
  https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/reading-service-price-list-file-for-services.html
  (a product's terms: OnDemand, priceDimensions, pricePerUnit USD, unit, effectiveDate).
- Confluent rates come from `confluent billing price list --cloud aws --region <region> -o json`, the
  organization's price list (needs `confluent login`). Its JSON rows are {metric, cluster_type, availability,
  network_type, price}: confluentinc/cli internal/billing/command_price_list.go (`serializedOut`, commit
  762b3ff77fbe46ecd64b574f4b9d55b5e98bd868). The list reads only the kafka and cluster-link price tables, so
  it has eCKU (KafkaNumCKUs) and connector task (ConnectNumTasks) rates but no Stream Governance package rate.

A rate is written only when exactly one product (or one distinct Confluent price) answers it; several
answers fail loudly with the filters that matched them, none leaves the line UNKNOWN with the reason. Lines
that already carry a sourced price are left alone unless --refresh is given.
"""
from __future__ import annotations

import argparse
import datetime
import io
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from planner.table import TABLE_PATH, Table

PRICING_API_REGION = "us-east-1"
# Usage types start with a billing code of the region ("EUC1-BoxUsage:t3.large"); the codes of other regions
# are listed in https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-region-billing-codes.html
# (linked from https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/load-balancer-billing-usage-reports.html).
USAGE_TYPE_REGION_CODES = {"eu-central-1": "EUC1"}
CONFLUENT_CLI_SOURCE = ("confluentinc/cli internal/billing/command_price_list.go at "
                        "762b3ff77fbe46ecd64b574f4b9d55b5e98bd868")
CONFLUENT_UNITS_SOURCE = "https://docs.confluent.io/cloud/current/billing/billing-dimensions.html"

# How an offer file states each unit this table prices in.
_OFFER_UNITS = {"hour": re.compile(r"^(Hrs|Hours?|[A-Za-z]+-Hrs)$"), "GB-month": re.compile(r"^GB-Mo$"),
                "GB": re.compile(r"^GB$")}


# Errors that say this caller may not use the API at all (rather than that one request was wrong).
_ACCESS_ERRORS = {"AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException",
                  "ExpiredTokenException", "InvalidClientTokenId", "SignatureDoesNotMatch", "ThrottlingException"}


class AmbiguousPrice(Exception):
    """More than one product or price answers a rate: the query is too loose, no rate is written."""


@dataclass(frozen=True)
class Rate:
    usd: float
    unit: str  # as the source states it
    source: str
    taken: str  # the date it was read

    def record(self) -> dict[str, Any]:
        return {"usd": self.usd, "source": self.source, "taken": self.taken}


@dataclass(frozen=True)
class Unknown:
    reason: str


@dataclass(frozen=True)
class Query:
    """One GetProducts request: a service code and TERM_MATCH filters that should match exactly one product."""

    service_code: str
    filters: tuple[tuple[str, str], ...]
    unit: str  # a key of _OFFER_UNITS

    def describe(self) -> str:
        return f"{self.service_code} " + ", ".join(f"{field}={value}" for field, value in self.filters)


# --- AWS -------------------------------------------------------------------------------------------------

def _ec2_box_usage(code: str, region: str, instance_type: str) -> Query:
    # Linux on-demand, shared tenancy, no pre-installed software (operation RunInstances), a used instance.
    return Query("AmazonEC2", (("regionCode", region), ("usagetype", f"{code}-BoxUsage:{instance_type}"),
                               ("instanceType", instance_type), ("operatingSystem", "Linux"),
                               ("tenancy", "Shared"), ("preInstalledSw", "NA"), ("capacitystatus", "Used"),
                               ("operation", "RunInstances")), "hour")


def aws_queries(price_id: str, variant: str | None, region: str) -> list[Query] | Unknown | None:
    """The queries whose prices add up to a rate; None for a rate that is not an AWS regional one."""
    code = USAGE_TYPE_REGION_CODES.get(region)
    if code is None and price_id in _AWS_PRICE_IDS:
        return Unknown(f"no billing code for region {region} in USAGE_TYPE_REGION_CODES (planner/update_prices.py); "
                       "add it from https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-region-billing-codes.html")
    if price_id in ("ebs_gp3", "opensearch_storage_gp3") and variant not in (None, "gp3"):
        return Unknown(f"volume type {variant} is not gp3, the only one this table prices")
    if price_id in _VARIANT_PRICE_IDS and not variant:
        if price_id == "eks_auto_mode_compute":
            return Unknown("Auto Mode picks the node's instance type (assumptions.eks_auto_mode_instance_type is null): "
                           "set it to the type `kubectl get nodes -L node.kubernetes.io/instance-type` shows on a "
                           "deployed stack, then run `make prices` again")
        return Unknown(f"the resource does not name its {price_id} variant")
    match price_id:
        case "ec2_instance":
            return [_ec2_box_usage(code, region, variant)]
        case "eks_auto_mode_compute":
            # The instance's own rate plus the Auto Mode fee the AmazonEKS offer lists for its type.
            return [_ec2_box_usage(code, region, variant),
                    Query("AmazonEKS", (("regionCode", region), ("instanceType", variant)), "hour")]
        case "nat_gateway":
            return [Query("AmazonEC2", (("regionCode", region), ("usagetype", f"{code}-NatGateway-Hours")), "hour")]
        case "nat_gateway_data":
            return [Query("AmazonEC2", (("regionCode", region), ("usagetype", f"{code}-NatGateway-Bytes")), "GB")]
        case "ebs_gp3":
            return [Query("AmazonEC2", (("regionCode", region), ("usagetype", f"{code}-EBS:VolumeUsage.gp3")), "GB-month")]
        case "alb" | "alb_lcu":
            usage = "LoadBalancerUsage" if price_id == "alb" else "LCUUsage"
            # The same usage type names every load balancer type: the product family picks the ALB's.
            return [Query("AWSELB", (("regionCode", region), ("usagetype", f"{code}-{usage}"),
                                     ("productFamily", "Load Balancer-Application")), "hour")]
        case "redshift_node":
            return [Query("AmazonRedshift", (("regionCode", region), ("usagetype", f"{code}-Node:{variant}"),
                                             ("productFamily", "Compute Instance")), "hour")]
        case "opensearch_instance":
            return [Query("AmazonES", (("regionCode", region), ("instanceType", variant),
                                       ("usagetype", f"{code}-ESInstance:{variant.removesuffix('.search')}"),
                                       ("productFamily", "Amazon OpenSearch Service Instance")), "hour")]
        case "opensearch_storage_gp3":
            return [Query("AmazonES", (("regionCode", region), ("usagetype", f"{code}-ES:GP3-Storage"),
                                       ("productFamily", "Amazon OpenSearch Service Volume")), "GB-month")]
    return None


_AWS_PRICE_IDS = {"ec2_instance", "eks_auto_mode_compute", "nat_gateway", "nat_gateway_data", "ebs_gp3", "alb",
                  "alb_lcu", "redshift_node", "opensearch_instance", "opensearch_storage_gp3"}
_VARIANT_PRICE_IDS = {"ec2_instance", "eks_auto_mode_compute", "redshift_node", "opensearch_instance"}


def get_product(client, query: Query) -> dict[str, Any] | None:
    """The one product matching ``query`` over every page; None if none; AmbiguousPrice if several."""
    products: dict[str, dict[str, Any]] = {}
    pages = client.get_paginator("get_products").paginate(
        ServiceCode=query.service_code, FormatVersion="aws_v1",
        Filters=[{"Type": "TERM_MATCH", "Field": field, "Value": value} for field, value in query.filters])
    for page in pages:
        for item in page.get("PriceList", []):
            product = json.loads(item) if isinstance(item, str) else item
            products[product["product"]["sku"]] = product
    if len(products) > 1:
        raise AmbiguousPrice(f"{len(products)} products match {query.describe()} (SKUs {', '.join(sorted(products))}); "
                             "narrow the filters in planner/update_prices.py")
    return next(iter(products.values()), None)


def on_demand_price(product: dict[str, Any], query: Query) -> tuple[float, str, str]:
    """(USD, unit, effective date) of the product's single on-demand price dimension."""
    sku = product["product"]["sku"]
    terms = list((product.get("terms") or {}).get("OnDemand", {}).values())
    if len(terms) != 1:
        raise AmbiguousPrice(f"SKU {sku} ({query.describe()}) has {len(terms)} OnDemand terms, expected 1")
    dimensions = list(terms[0]["priceDimensions"].values())
    if len(dimensions) != 1:
        raise AmbiguousPrice(f"SKU {sku} ({query.describe()}) has {len(dimensions)} on-demand price dimensions "
                             "(a tiered price), expected 1")
    dimension = dimensions[0]
    unit = dimension["unit"]
    if not _OFFER_UNITS[query.unit].match(unit):
        raise AmbiguousPrice(f"SKU {sku} ({query.describe()}) is priced per {unit!r}, not per {query.unit}")
    return float(dimension["pricePerUnit"]["USD"]), unit, terms[0]["effectiveDate"]


def read_aws(client, queries: list[Query], today: str) -> Rate | Unknown:
    parts = []
    for query in queries:
        product = get_product(client, query)
        if product is None:
            return Unknown(f"no product matches {query.describe()} in the Price List Query API (read {today})")
        usd, unit, effective = on_demand_price(product, query)
        usage = product["product"].get("attributes", {}).get("usagetype", "?")
        published = product.get("publicationDate")
        parts.append((usd, unit, f"{query.service_code} {usage} (SKU {product['product']['sku']}): {usd:g} USD per "
                                  f"{unit}, effective {effective}" + (f", price list published {published}" if published else "")))
    units = {unit for _, unit, _ in parts}
    return Rate(sum(usd for usd, _, _ in parts), "/".join(sorted(units)),
                "AWS Price List Query API (GetProducts, OnDemand term): " + "; plus ".join(text for _, _, text in parts)
                + f"; read {today}", today)


# --- Confluent -------------------------------------------------------------------------------------------

def confluent_rows(region: str, run: Callable[[list[str]], subprocess.CompletedProcess] | None = None,
                   which: Callable[[str], str | None] = shutil.which) -> list[dict[str, Any]] | Unknown:
    """The organization's price list rows for AWS ``region``, or why there are none."""
    if which("confluent") is None:
        return Unknown("the Confluent CLI (`confluent`) is not on PATH")
    command = ["confluent", "billing", "price", "list", "--cloud", "aws", "--region", region, "-o", "json"]
    run = run or (lambda argv: subprocess.run(argv, capture_output=True, text=True, timeout=120))
    done = run(command)
    if done.returncode != 0:
        first = next((line for line in (done.stderr or done.stdout).splitlines() if line.strip()), "no message")
        return Unknown(f"`{' '.join(command)}` failed ({first.strip()}); is `confluent login` done?")
    try:
        rows = json.loads(done.stdout)
    except json.JSONDecodeError as error:
        return Unknown(f"`{' '.join(command)}` printed no JSON ({error})")
    keys = {"metric", "cluster_type", "availability", "network_type", "price"}
    if not isinstance(rows, list) or not all(isinstance(row, dict) and keys <= row.keys() for row in rows):
        return Unknown(f"`{' '.join(command)}` printed JSON not shaped as {CONFLUENT_CLI_SOURCE} (serializedOut) documents")
    return rows


def read_confluent(rows: list[dict[str, Any]], price_id: str, variant: str | None, region: str,
                   today: str) -> Rate | Unknown | None:
    """A rate from the price list rows; None for a rate that is not a Confluent one."""
    if price_id == "stream_governance":
        return Unknown("`confluent billing price list` reads only the kafka and cluster-link price tables and has no "
                       f"Stream Governance package rate ({CONFLUENT_CLI_SOURCE}); add it by hand with its source")
    if price_id == "confluent_cluster_ecku":
        metric, wanted = "KafkaNumCKUs", (lambda row: row["cluster_type"] == variant)
        what, unit = f"cluster type {variant}", "per eCKU per hour (KAFKA_NUM_CKUS)"
        modeled = "by cluster type, not by availability"
    elif price_id == "connector":
        # The price list has no connector dimension: its task rate is the organization's, for any connector.
        metric, wanted = "ConnectNumTasks", (lambda row: True)
        what = ("any cluster type (the price list has no per-connector rate: a connector Confluent bills at a "
                "rate of its own is not told apart)")
        unit, modeled = "per task per hour (CONNECT_NUM_TASKS)", "by connector class, not by cluster"
    else:
        return None
    # Basic and Standard clusters are reached over the internet; private networking is priced apart.
    matches = [row for row in rows if row["metric"] == metric and row["network_type"] == "internet" and wanted(row)]
    prices = sorted({float(row["price"]) for row in matches})
    command = f"confluent billing price list --cloud aws --region {region} -o json"
    if not prices:
        return Unknown(f"`{command}` has no {metric} row for {what} on internet networking (read {today})")
    if len(prices) > 1:
        detail = ", ".join(f"{row['cluster_type']}/{row['availability']}: {row['price']}" for row in matches)
        raise AmbiguousPrice(f"{metric} for {what} has {len(prices)} prices in `{command}` ({detail}); "
                             f"planner/prices.yaml prices {price_id} {modeled}")
    availabilities = ", ".join(sorted({row["availability"] for row in matches}))
    return Rate(prices[0], "USD/Hour",
                f"Confluent organization price list (`{command}`, {CONFLUENT_CLI_SOURCE}): {metric}, {what}, "
                f"availability {availabilities}, network internet: {prices[0]:g} USD {unit}, units per "
                f"{CONFLUENT_UNITS_SOURCE}; read {today}", today)


# --- what to fill, and writing it back --------------------------------------------------------------------

Key = tuple[str, "str | None"]  # (price id, variant)


def wanted_rates(lines: Iterable[Any], table: Table, refresh: bool) -> list[Key]:
    """The (price id, variant) pairs the plans price (cost lines) that are regional and unknown, or all
    regional ones with ``refresh``; hand-sourced rates valid in all regions are never touched."""
    keys: dict[Key, None] = {}
    for line in lines:
        price_id, _, rest = line.item.partition(" [")  # costs.estimate labels a line "<price id> [<variant>]"
        variant = rest[:-1] if rest else None
        entry = table.prices[price_id]
        if entry.get("all_regions") is not None or "regions" not in entry:
            continue
        if line.unit_usd is None or refresh:
            keys[(price_id, variant)] = None
    return list(keys)


def write_rates(path: Path, region: str, rates: dict[Key, Rate]) -> None:
    """Put the rates under ``prices.<id>.regions.<region>`` (by variant where the entry has ``by``), keeping
    every comment, quote and line of the file as it was (ruamel.yaml round trip)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 10**6  # never fold a long source line
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.add_representer(type(None), lambda rep, _: rep.represent_scalar("tag:yaml.org,2002:null", "null"))
    data = yaml.load(path.read_text())
    for (price_id, variant), rate in rates.items():
        regions = data["prices"][price_id]["regions"]
        record = CommentedMap(rate.record())
        if data["prices"][price_id].get("by"):
            if not isinstance(regions.get(region), dict):
                regions[region] = CommentedMap()
            regions[region][variant] = record
        else:
            regions[region] = record
    out = io.StringIO()
    yaml.dump(data, out)
    path.write_text(out.getvalue())


@dataclass
class Outcome:
    filled: dict[Key, Rate]
    unknown: dict[Key, str]
    failed: dict[Key, str]  # several answers or a malformed price: a defect to fix, never a rate
    notes: list[str]  # one line per source that could not be asked


def fetch(keys: list[Key], region: str, pricing_client_factory: Callable[[], Any],
          confluent: Callable[[str], list[dict[str, Any]] | Unknown], today: str) -> Outcome:
    outcome = Outcome({}, {}, {}, [])
    aws_keys = [key for key in keys if key[0] in _AWS_PRICE_IDS]
    confluent_keys = [key for key in keys if key[0] in ("confluent_cluster_ecku", "stream_governance", "connector")]
    for key in keys:
        if key not in aws_keys and key not in confluent_keys:
            outcome.unknown[key] = "no vendor price source this command reads"

    aws_blocked: str | None = None
    client = None
    for key in aws_keys:
        queries = aws_queries(*key, region)
        if isinstance(queries, Unknown):
            outcome.unknown[key] = queries.reason
            continue
        if aws_blocked:
            outcome.unknown[key] = aws_blocked
            continue
        try:
            client = client or pricing_client_factory()
            answer = read_aws(client, queries, today)
        except AmbiguousPrice as error:
            outcome.failed[key] = str(error)
            continue
        except (BotoCoreError, ClientError) as error:
            code = getattr(error, "response", {}).get("Error", {}).get("Code", "")
            if isinstance(error, ClientError) and code not in _ACCESS_ERRORS:
                outcome.failed[key] = f"{' + '.join(q.describe() for q in queries)}: {error}"
                continue
            # No credentials, no access or no endpoint: say it once and go on without AWS.
            aws_blocked = f"AWS Price List Query API not usable here ({type(error).__name__}: {error})"
            outcome.notes.append(f"{aws_blocked}: the AWS rates stay UNKNOWN")
            outcome.unknown[key] = aws_blocked
            continue
        _keep(outcome, key, answer)

    if confluent_keys:
        rows = confluent(region)
        if isinstance(rows, Unknown):
            outcome.notes.append(f"{rows.reason}: the Confluent rates stay UNKNOWN")
        for key in confluent_keys:
            if isinstance(rows, Unknown):
                outcome.unknown[key] = rows.reason
                continue
            try:
                _keep(outcome, key, read_confluent(rows, *key, region, today))
            except AmbiguousPrice as error:
                outcome.failed[key] = str(error)
    return outcome


def _keep(outcome: Outcome, key: Key, answer: Rate | Unknown) -> None:
    if isinstance(answer, Rate):
        outcome.filled[key] = answer
    else:
        outcome.unknown[key] = answer.reason


def _label(key: Key) -> str:
    return key[0] + (f" [{key[1]}]" if key[1] else "")


def report(outcome: Outcome, table: Table, region: str, out: TextIO) -> None:
    for note in outcome.notes:
        print(note, file=out)
    for key, rate in outcome.filled.items():
        before = table.price(key[0], region, key[1]).usd
        was = "UNKNOWN" if before is None else f"{before:g}"
        print(f"  {_label(key)} ({region}): {was} -> {rate.usd:g} USD/{rate.unit}", file=out)
    by_reason: dict[str, list[str]] = {}
    for key, reason in outcome.unknown.items():
        by_reason.setdefault(reason, []).append(_label(key))
    for reason, labels in by_reason.items():
        print(f"  left as they were ({region}): {', '.join(labels)}: {reason}", file=out)
    for key, reason in outcome.failed.items():
        print(f"  FAILED {_label(key)} ({region}): {reason}", file=out)


def plan_lines(region: str, table: Table) -> list[Any]:
    """Cost lines of every stack and of the original demo, priced for ``region``."""
    from planner.plan import run, stacks

    lines: list[Any] = []
    for stack in stacks():
        plan = run(stack, price_region=region, table=table)
        lines += [*plan.costs.lines, *plan.original_costs.lines]
    return lines


def update(path: Path, region: str, lines: Iterable[Any], pricing_client_factory: Callable[[], Any],
           confluent: Callable[[str], list[dict[str, Any]] | Unknown], refresh: bool = False,
           today: str | None = None, out: TextIO = sys.stdout) -> Outcome:
    """Fetch the wanted rates, write those found into ``path`` and print what changed."""
    table = Table.load(path)
    today = today or datetime.date.today().isoformat()
    keys = sorted(wanted_rates(lines, table, refresh), key=lambda key: (key[0], key[1] or ""))
    outcome = fetch(keys, region, pricing_client_factory, confluent, today)
    changed = outcome.filled
    report(outcome, table, region, out)
    if changed:
        write_rates(path, region, changed)
    if keys:
        print(f"{len(changed)} rate(s) written to {path}, {len(outcome.unknown)} left as they were, "
              f"{len(outcome.failed)} failed", file=out)
    else:
        print(f"no rate to fill for {region}: nothing UNKNOWN", file=out)
    return outcome


def _pricing_client():
    import boto3

    # The Price List Query API's endpoint is in us-east-1 whatever region is priced.
    return boto3.client("pricing", region_name=PRICING_API_REGION)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m planner.update_prices", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", default="dev", help="the stack whose aws:region is priced (default dev)")
    parser.add_argument("--region", help="the region to price (default: the stack's aws:region)")
    parser.add_argument("--table", type=Path, default=TABLE_PATH, help="the price table to update")
    parser.add_argument("--refresh", action="store_true", help="read again the regional rates already filled")
    parser.add_argument("--strict", action="store_true",
                        help="exit non-zero when a rate stays UNKNOWN (no credentials, no CLI, not found)")
    args = parser.parse_args(argv)

    region = args.region
    if not region:
        from mockcloud import stack_config

        try:
            region = str(stack_config(args.stack)["aws:region"])
        except (FileNotFoundError, KeyError):
            parser.error(f"--stack {args.stack}: Pulumi.{args.stack}.yaml has no aws:region; pass --region")
    lines = plan_lines(region, Table.load(args.table))
    outcome = update(args.table, region, lines, _pricing_client, confluent_rows, refresh=args.refresh)
    if outcome.failed:
        return 1
    return 2 if args.strict and outcome.unknown else 0


if __name__ == "__main__":
    sys.exit(main())
