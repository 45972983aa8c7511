"""What the mocked clouds answer: computed resource outputs and invoke results, by type token.

Each entry is a function of the resource's name and inputs (or the invoke's args), so the values the
program reads back are derived from what it sent, like a real provider would. Add an entry when a
component starts reading a computed output the inputs do not carry.
"""
from __future__ import annotations

import hashlib
from typing import Any, Callable

ACCOUNT_ID = "123456789012"
REGION = "eu-central-1"
CONFLUENT_EGRESS = ["52.28.10.0/24", "3.124.20.16/28"]

Outputs = Callable[[str, dict[str, Any]], dict[str, Any]]

RESOURCE_OUTPUTS: dict[str, Outputs] = {
    # --- network ---
    "aws:ec2/vpc:Vpc": lambda name, inputs: {"id": f"{name}-id", "cidrBlock": inputs.get("cidrBlock")},
    "aws:ec2/subnet:Subnet": lambda name, inputs: {"id": f"{name}-id"},
    "aws:ec2/eip:Eip": lambda name, inputs: {"publicIp": "198.51.100.10", "allocationId": f"{name}-alloc"},
    # --- oracle ---
    "aws:ec2/instance:Instance": lambda name, inputs: {
        "privateIp": "10.40.128.10",
        "publicIp": "198.51.100.20",
        "publicDns": "ec2-198-51-100-20.eu-central-1.compute.amazonaws.com",
    },
    # A deterministic "generated" password per resource name; it starts with a digit on purpose (Oracle
    # passwords must start with a letter, so the program has to fix that) and never appears in the inputs.
    "random:index/randomPassword:RandomPassword": lambda name, inputs: {
        "result": "7" + hashlib.sha256(name.encode()).hexdigest()[:18] + "Qz_",
        "bcryptHash": "$2a$10$mock",
    },
    "aws:ssm/parameter:Parameter": lambda name, inputs: {
        "arn": f"arn:aws:ssm:{REGION}:{ACCOUNT_ID}:parameter{inputs['name']}",
    },
}

INVOKE_RESULTS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "aws:index/getAvailabilityZones:getAvailabilityZones": lambda args: {
        "names": [f"{REGION}a", f"{REGION}b", f"{REGION}c"],
        "zoneIds": ["euc1-az1", "euc1-az2", "euc1-az3"],
        "id": REGION,
    },
    "aws:index/getCallerIdentity:getCallerIdentity": lambda args: {
        "accountId": ACCOUNT_ID,
        "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/deployer",
        "userId": "AIDAEXAMPLE",
        "id": ACCOUNT_ID,
    },
    "aws:index/getPartition:getPartition": lambda args: {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"},
    "aws:index/getRegion:getRegion": lambda args: {"name": REGION, "region": REGION, "id": REGION},
    "aws:ssm/getParameter:getParameter": lambda args: {
        "name": args["name"],
        "value": "ami-0123456789abcdef0",
        "insecureValue": "ami-0123456789abcdef0",
        "type": "String",
        "id": args["name"],
    },
    "confluentcloud:index/getIpAddresses:getIpAddresses": lambda args: {
        "ipAddresses": [
            {"ipPrefix": prefix, "cloud": "AWS", "region": REGION, "services": ["CONNECT"], "addressType": "EGRESS"}
            for prefix in CONFLUENT_EGRESS
        ],
        "id": "confluent-ips",
    },
}
