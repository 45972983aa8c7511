"""Hourly cost lines of the resources that are billed while they exist, priced from planner/prices.yaml.

Each billed resource type maps to the price items it incurs and their quantities read from the
resource's real inputs. An item without a sourced price stays UNKNOWN (hourly None), so a total is
only ever a lower bound ("at least") when anything is unknown.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from planner.table import Table


@dataclass(frozen=True)
class CostLine:
    resource: str
    type: str
    item: str
    quantity: float | None  # None: the quantity itself depends on load
    unit: str
    unit_usd: float | None
    hourly_usd: float | None  # None: UNKNOWN
    reason: str
    source: str
    taken: str


@dataclass(frozen=True)
class CostSummary:
    lines: tuple[CostLine, ...]
    known_hourly_usd: float
    unknown_items: int
    flink_max_hourly_usd: float | None

    @property
    def complete(self) -> bool:
        return self.unknown_items == 0

    @property
    def label(self) -> str:
        amount = f"${self.known_hourly_usd:.4f}/h"
        return amount if self.complete else f"at least {amount} ({self.unknown_items} item(s) UNKNOWN)"


Line = tuple[str, float | None, str | None]  # (price id, quantity, variant)
Rule = Callable[[dict[str, Any], dict[str, Any]], list[Line]]  # (inputs, assumptions) -> lines

_CONTINUOUS = re.compile(r"^\s*INSERT\b|\bAS\s+SELECT\b", re.IGNORECASE)


def _per_hour(gb_month: float, assumptions: dict[str, Any]) -> float:
    return gb_month / float(assumptions["hours_per_month"])


def _instance(inputs: dict[str, Any], assumptions: dict[str, Any]) -> list[Line]:
    lines: list[Line] = [("ec2_instance", 1, inputs.get("instanceType"))]
    if inputs.get("associatePublicIpAddress"):
        lines.append(("public_ipv4", 1, None))
    root = inputs.get("rootBlockDevice") or {}
    if root.get("volumeSize"):
        lines.append(("ebs_gp3", _per_hour(float(root["volumeSize"]), assumptions), root.get("volumeType")))
    return lines


def _kafka_cluster(inputs: dict[str, Any], assumptions: dict[str, Any]) -> list[Line]:
    # Basic and Standard have been billed in eCKUs since 2024-04-16 (legacy-billing doc); Dedicated in CKUs.
    kind = next((k for k in ("basic", "standard") if k in inputs), "enterprise" if "enterprises" in inputs else "dedicated")
    return [("confluent_cluster_ecku", float(assumptions["kafka_ecku"]), kind)]


def _nat_gateway(inputs: dict[str, Any], assumptions: dict[str, Any]) -> list[Line]:
    return [("nat_gateway", 1, None), ("nat_gateway_data", float(assumptions["nat_processed_gb_per_hour"]), None)]


def _eks_cluster(inputs: dict[str, Any], assumptions: dict[str, Any]) -> list[Line]:
    # Auto Mode nodes: the instance type is the cheapest one its NodePool allows that fits (an assumption).
    return [("eks_cluster", 1, None),
            ("eks_auto_mode_compute", float(assumptions["eks_auto_mode_nodes"]), assumptions.get("eks_auto_mode_instance_type"))]


def _opensearch(inputs: dict[str, Any], assumptions: dict[str, Any]) -> list[Line]:
    cluster = inputs.get("clusterConfig") or {}
    count = float(cluster.get("instanceCount") or 1)
    lines: list[Line] = [("opensearch_instance", count, cluster.get("instanceType"))]
    ebs = inputs.get("ebsOptions") or {}
    if ebs.get("volumeSize"):
        lines.append(("opensearch_storage_gp3", count * _per_hour(float(ebs["volumeSize"]), assumptions), ebs.get("volumeType")))
    return lines


def _connector(inputs: dict[str, Any], assumptions: dict[str, Any]) -> list[Line]:
    config = inputs.get("configNonsensitive") or {}
    return [("connector", float(assumptions["connector_tasks"]), config.get("connector.class"))]


def _flink_statement(inputs: dict[str, Any], assumptions: dict[str, Any]) -> list[Line]:
    # DDL completes and stops billing; INSERT and CREATE TABLE ... AS SELECT keep running.
    if not _CONTINUOUS.search(inputs.get("statement") or ""):
        return []
    return [("flink_cfu", float(assumptions["flink_cfu_per_continuous_statement"]), None)]


def _flink_materialized_table(inputs: dict[str, Any], assumptions: dict[str, Any]) -> list[Line]:
    # A materialized table owns a continuous query for as long as it exists.
    return [("flink_cfu", float(assumptions["flink_cfu_per_continuous_statement"]), None)]


RULES: dict[str, Rule] = {
    "aws:ec2/natGateway:NatGateway": _nat_gateway,
    "aws:ec2/eip:Eip": lambda inputs, assumptions: [("public_ipv4", 1, None)],
    "aws:ec2/instance:Instance": _instance,
    "eks:index:Cluster": _eks_cluster,
    "kubernetes:networking.k8s.io/v1:Ingress": lambda inputs, assumptions: [
        # an internet-facing ALB spans at least 2 zones
        ("alb", 1, None), ("public_ipv4", 2, None), ("alb_lcu", float(assumptions["alb_lcu_per_hour"]), None)
    ],
    "aws:redshift/cluster:Cluster": lambda inputs, assumptions: [
        ("redshift_node", float(inputs.get("numberOfNodes") or 1), inputs.get("nodeType"))
    ],
    "aws:opensearch/domain:Domain": _opensearch,
    "confluentcloud:index/kafkaCluster:KafkaCluster": _kafka_cluster,
    "confluentcloud:index/environment:Environment": lambda inputs, assumptions: [
        ("stream_governance", 1, (inputs.get("streamGovernance") or {}).get("package"))
    ],
    "confluentcloud:index/connector:Connector": _connector,
    "confluentcloud:index/flinkComputePool:FlinkComputePool": lambda inputs, assumptions: [("flink_compute_pool", 1, None)],
    "confluentcloud:index/flinkStatement:FlinkStatement": _flink_statement,
    "confluentcloud:index/flinkMaterializedTable:FlinkMaterializedTable": _flink_materialized_table,
}


def estimate(resources: list[Any], region: str, table: Table) -> CostSummary:
    """Cost lines for every billed resource (objects with .type, .name, .inputs)."""
    lines: list[CostLine] = []
    for resource in resources:
        rule = RULES.get(resource.type)
        for price_id, quantity, variant in rule(resource.inputs, table.assumptions) if rule else []:
            price = table.price(price_id, region, variant)
            reason = price.reason
            if quantity is None and price.usd is not None:
                reason = "quantity depends on load"
            hourly = None if price.usd is None or quantity is None else price.usd * quantity
            lines.append(CostLine(resource.name, resource.type, price_id + (f" [{variant}]" if variant else ""),
                                  quantity, price.unit, price.usd, hourly, reason, price.source, price.taken))
    known = sum(line.hourly_usd for line in lines if line.hourly_usd is not None)
    unknown = sum(1 for line in lines if line.hourly_usd is None)

    flink_max = None
    pools = [r for r in resources if r.type == "confluentcloud:index/flinkComputePool:FlinkComputePool"]
    cfu = table.price("flink_cfu", region) if pools else None
    if cfu is not None and cfu.usd is not None:
        flink_max = sum(float(p.inputs.get("maxCfu") or 0) for p in pools) * cfu.usd
    return CostSummary(tuple(lines), known, unknown, flink_max)
