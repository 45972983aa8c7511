"""The public address ranges Confluent Cloud's managed connectors use to reach systems outside it.

Firewalls in front of a database that a Confluent connector reads or writes allow these (and their own
VPC) instead of 0.0.0.0/0. KafkaPlatform exposes the result as ``connect_egress_cidrs``.
"""
from __future__ import annotations

import pulumi
import pulumi_confluentcloud as confluentcloud


def _prefixes(addresses: list, region: str) -> list[str]:
    prefixes = sorted({address.ip_prefix for address in addresses})
    if not prefixes:
        raise ValueError(
            f"Confluent Cloud lists no CONNECT egress addresses for AWS {region}; "
            "connectors there could not be allowed through the database firewalls"
        )
    return prefixes


def connect_egress_cidrs(region: str, opts: pulumi.InvokeOptions | None = None) -> pulumi.Output[list[str]]:
    """CIDRs of Confluent Cloud's CONNECT egress on AWS in ``region`` (sorted, de-duplicated, never empty)."""
    result = confluentcloud.get_ip_addresses_output(
        filter=confluentcloud.GetIpAddressesFilterArgs(
            clouds=["AWS"], regions=[region], services=["CONNECT"], address_types=["EGRESS"]
        ),
        opts=opts,
    )
    return result.ip_addresses.apply(lambda addresses: _prefixes(addresses, region))
