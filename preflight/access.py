"""Who may reach the Kubernetes API and OpenSearch: not a documentation range, and this machine.

`pulumi up` creates the app's Kubernetes objects through the cluster's public endpoint and imports the
dashboard and the sink's user through the OpenSearch APIs, all from this machine; `pulumi destroy` deletes
them the same way. The dev stack file ships a documentation address as a placeholder (RFC 5737 ranges are
reserved for examples and reach no one). This machine's address is what AWS's checkip.amazonaws.com sees
(it answers the caller's IPv4 address as plain text); when it cannot be found it is "unknown", never a guess.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Callable

import requests

from preflight.report import FAIL, OK, WARN, Finding

CHECK = "access CIDRs"
EKS_KEY = "fraud-detection:eksPublicAccessCidrs"
OPENSEARCH_KEY = "fraud-detection:opensearchAccessCidrs"
# RFC 5737, section 3: TEST-NET-1, TEST-NET-2, TEST-NET-3.
DOCUMENTATION_RANGES = tuple(ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"))
ADDRESS_URL = "https://checkip.amazonaws.com"
ADDRESS_TIMEOUT_SECONDS = 3


@dataclass(frozen=True)
class Address:
    """This machine's internet address, or None with the reason it is unknown."""

    ip: ipaddress.IPv4Address | None
    reason: str = ""


AddressLookup = Callable[[], Address]


def lookup_address(url: str = ADDRESS_URL, timeout: float = ADDRESS_TIMEOUT_SECONDS) -> Address:
    try:
        answer = requests.get(url, timeout=timeout)
        answer.raise_for_status()
    except requests.RequestException as error:
        return Address(None, f"{url} did not answer: {error.__class__.__name__}")
    text = answer.text.strip()
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return Address(None, f"{url} answered {text[:60]!r}, not an address")
    if ip.version != 4:
        return Address(None, f"{url} answered the IPv6 address {ip}; the access lists take IPv4 only")
    return Address(ip)


def _networks(values) -> list[tuple[int, ipaddress.IPv4Network]]:
    """The well-formed CIDRs of a config value with their positions; malformed ones are the stack config
    check's to report."""
    found = []
    for index, value in enumerate(values if isinstance(values, list) else []):
        try:
            found.append((index, ipaddress.ip_network(value)))
        except (TypeError, ValueError):
            continue
    return found


def _set_command(key: str, index: int, address: Address) -> str:
    ip = f"{address.ip}/32" if address.ip else "<your address>/32"
    return f"`pulumi config set --path '{key}[{index}]' {ip}`"


def _add_command(key: str, values: list, address: Address) -> str:
    return _set_command(key, len(values) if isinstance(values, list) else 0, address)


def documentation_findings(key: str, values: list, address: Address, purpose: str) -> list[Finding]:
    then = " and run `make up` before the destroy (the deployed stack allows what its config said)" if purpose == "destroy" else ""
    return [
        Finding(
            FAIL, CHECK,
            f"{key} holds {network}, in the documentation range {reserved} (RFC 5737), a placeholder that reaches "
            f"no one: put your own address there: {_set_command(key, index, address)}{then}",
        )
        for index, network in _networks(values)
        for reserved in DOCUMENTATION_RANGES
        if network.overlaps(reserved)
    ]


def check_access(eks: list, opensearch: list, address: Address, purpose: str) -> list[Finding]:
    """Every access problem of the two lists; `purpose` is "up" or "destroy"."""
    inherited = not opensearch  # settings.py: an empty opensearchAccessCidrs takes eksPublicAccessCidrs
    effective_opensearch = eks if inherited else opensearch
    opensearch_name = f"{OPENSEARCH_KEY} (empty, so it takes {EKS_KEY})" if inherited else OPENSEARCH_KEY
    findings = documentation_findings(EKS_KEY, eks, address, purpose)
    if not inherited:
        findings += documentation_findings(OPENSEARCH_KEY, opensearch, address, purpose)

    if address.ip is None:
        findings.append(Finding(
            WARN, CHECK,
            f"this machine's internet address: unknown ({address.reason}); make sure {EKS_KEY} and "
            f"{OPENSEARCH_KEY} contain it",
        ))
        return findings

    def contains(values: list) -> bool:
        return any(address.ip in network for _, network in _networks(values))

    if contains(eks):
        findings.append(Finding(OK, CHECK, f"this machine ({address.ip}) is in {EKS_KEY}"))
    elif purpose == "up":
        findings.append(Finding(
            FAIL, CHECK,
            f"this machine ({address.ip}) is not in {EKS_KEY}, so `pulumi up` cannot reach the Kubernetes API to "
            f"create the app: add it: {_add_command(EKS_KEY, eks, address)}",
        ))
    else:
        findings.append(Finding(
            FAIL, CHECK,
            f"this machine ({address.ip}) is not in {EKS_KEY}, so `pulumi destroy` cannot reach the Kubernetes API "
            f"to delete the app and its load balancer: destroy from an address in the list, or add it "
            f"({_add_command(EKS_KEY, eks, address)}) and run `make up` first",
        ))

    if contains(effective_opensearch):
        findings.append(Finding(OK, CHECK, f"this machine ({address.ip}) is in {opensearch_name}"))
    elif purpose == "up":
        target = EKS_KEY if inherited else OPENSEARCH_KEY
        findings.append(Finding(
            FAIL, CHECK,
            f"this machine ({address.ip}) is not in {opensearch_name}: the domain refuses it (HTTP 403), so the "
            f"dashboard import and the sink's OpenSearch user fail late in the deploy: add it: "
            f"{_add_command(target, effective_opensearch, address)}",
        ))
    else:
        findings.append(Finding(
            WARN, CHECK,
            f"this machine ({address.ip}) is not in {opensearch_name}: the destroy cannot reach the domain's APIs, "
            f"so the dashboard and the sink's user will be left to the domain's deletion",
        ))
    return findings

