"""One `pulumi destroy` leaves nothing: everything the data path needs is a resource of the stack, nothing
is created behind the stack's back, and whatever must go before its network goes first.

Pulumi deletes a resource before anything it depends on (inputs, depends_on, parent-less provider
references), so "A waits for B" on the way up is "A is deleted before B" on the way down.
"""
from pathlib import Path

import pytest

import sql_text
from mockcloud.program import ROOT

CONNECTOR = "confluentcloud:index/connector:Connector"
STATEMENT = "confluentcloud:index/flinkStatement:FlinkStatement"
TABLE = "confluentcloud:index/flinkMaterializedTable:FlinkMaterializedTable"
DYNAMIC = "pulumi-python:dynamic:Resource"
# Resource types that run arbitrary commands and could create objects the stack does not track.
COMMAND_TYPES = ("command:local:Command", "command:remote:Command", "command:remote:CopyToRemote")
# Every dynamic resource and what it does: waits for readiness, or imports objects it also deletes.
KNOWN_DYNAMIC = {"oracle-ready": "waits", "cdc-ready": "waits", "opensearch-dashboard": "imports and deletes",
                 "opensearch-sink-user": "puts and deletes"}


def waits_for(program, resource, target) -> bool:
    """Dependencies including provider references: a Kubernetes object waits for its cluster's provider."""
    seen, pending = set(), [resource]
    while pending:
        current = pending.pop()
        if current.urn in seen:
            continue
        seen.add(current.urn)
        edges = set(program.direct_dependencies(current))
        if current.provider:
            edges.add(current.provider.rsplit("::", 1)[0])
        if target.urn in edges:
            return True
        pending.extend(r for r in program.resources if r.urn in edges)
    return False


def connector_class(resource) -> str:
    return resource.inputs["configNonsensitive"]["connector.class"]


@pytest.mark.parametrize("stack", ["dev", "ha"])
def test_every_piece_of_the_data_path_is_a_resource(stack, request):
    program = request.getfixturevalue(stack)
    classes = sorted(connector_class(c) for c in program.of_type(CONNECTOR))
    assert classes == ["OpenSearchSink", "OracleXStreamSource", "RedshiftSink"]
    sql_files = sorted(Path(ROOT / "flink").glob("*.sql"))
    creating = [path for path in sql_files if sql_text.created_tables(path.read_text())]
    assert len(program.of_type(STATEMENT)) + len(program.of_type(TABLE)) == len(sql_files) > 0
    assert len(program.of_type(TABLE)) == len(creating) > 0, "every table Flink creates is a resource of the stack"
    redshift_sql = {r.name.removeprefix(f"fraud-{stack}-redshift-") for r in program.of_type("aws:redshiftdata/statement:Statement")}
    assert redshift_sql == {"schema", "sink-user-procedure", "sink-user"}, "the schema, sink user and grants come from the stack"
    assert program.of_type("kubernetes:batch/v1:Job"), "the app's tables are created by the stack's migration Job"
    instance = program.one("aws:ec2/instance:Instance")
    assert "oracle" in instance.inputs["userData"].lower(), "the XStream preparation runs from the instance's user data"
    roles = {r.name.removeprefix(f"fraud-{stack}-"): r for r in program.of_type(DYNAMIC)}
    assert set(roles) == set(KNOWN_DYNAMIC)


@pytest.mark.parametrize("stack", ["dev", "ha"])
def test_nothing_runs_commands_that_create_untracked_objects(stack, request):
    program = request.getfixturevalue(stack)
    assert [r.name for r in program.resources if r.type in COMMAND_TYPES] == []
    assert not any(r.type.startswith("command:") for r in program.resources)


def test_connectors_go_before_what_they_read_and_write(dev):
    source = next(c for c in dev.of_type(CONNECTOR) if connector_class(c) == "OracleXStreamSource")
    assert waits_for(dev, source, dev.one("aws:ec2/instance:Instance"))
    assert waits_for(dev, source, dev.one("confluentcloud:index/kafkaCluster:KafkaCluster"))
    for statement in dev.of_type(STATEMENT) + dev.of_type(TABLE):
        assert waits_for(dev, statement, dev.one("confluentcloud:index/flinkComputePool:FlinkComputePool"))
        assert waits_for(dev, statement, source), f"{statement.name} would outlive the CDC source"
    redshift_sink = next(c for c in dev.of_type(CONNECTOR) if connector_class(c) == "RedshiftSink")
    opensearch_sink = next(c for c in dev.of_type(CONNECTOR) if connector_class(c) == "OpenSearchSink")
    assert waits_for(dev, redshift_sink, dev.one("aws:redshift/cluster:Cluster"))
    assert waits_for(dev, opensearch_sink, dev.one("aws:opensearch/domain:Domain"))
    for acl in dev.of_type("confluentcloud:index/kafkaAcl:KafkaAcl"):
        users = [c for c in dev.of_type(CONNECTOR) if waits_for(dev, c, acl)]
        assert all(waits_for(dev, c, dev.one("confluentcloud:index/kafkaCluster:KafkaCluster")) for c in users)


def test_tables_go_after_everything_that_reads_them(dev):
    """A materialized table is dropped (with its topic and schemas) only once its sinks and readers are gone."""
    tables = {r.inputs["displayName"]: r for r in dev.of_type(TABLE)}
    for connector in dev.of_type(CONNECTOR):
        for topic in connector.inputs["configNonsensitive"].get("topics", "").split(","):
            if topic in tables:
                assert waits_for(dev, connector, tables[topic]), f"{connector.name} must go before {topic}"
    for name, table in tables.items():
        for read in sql_text.read_tables(table.inputs["query"]) & set(tables):
            assert waits_for(dev, table, tables[read]), f"{name} must go before {read}"
    assert waits_for(dev, tables["flagged_user"], tables["user_transaction"])


def test_load_balancers_and_hosts_go_before_the_network(dev):
    subnets = dev.of_type("aws:ec2/subnet:Subnet")
    vpc = dev.one("aws:ec2/vpc:Vpc")
    cluster = dev.one("eks:index:Cluster")
    ingress = dev.one("kubernetes:networking.k8s.io/v1:Ingress")
    # The ALB and its network interfaces belong to the Ingress: it must be deleted (and awaited) first.
    assert waits_for(dev, ingress, cluster)
    assert not ingress.inputs.get("metadata", {}).get("annotations", {}).get("pulumi.com/skipAwait")
    assert any(waits_for(dev, cluster, s) for s in subnets)
    for service in dev.of_type("kubernetes:core/v1:Service"):
        assert service.inputs["spec"].get("type", "ClusterIP") == "ClusterIP", "a LoadBalancer Service would hold ENIs"
    for host in ("aws:ec2/instance:Instance", "aws:redshift/cluster:Cluster", "aws:ec2/natGateway:NatGateway"):
        for resource in dev.of_type(host):
            assert waits_for(dev, resource, vpc), f"{resource.name} must be deleted before the VPC"
    assert all(waits_for(dev, nat, dev.one("aws:ec2/internetGateway:InternetGateway")) for nat in dev.of_type("aws:ec2/natGateway:NatGateway"))


def test_nothing_is_protected_or_retained_beyond_what_holds_it(dev):
    assert [r.name for r in dev.resources if r.options["protect"]] == []
    # The pushed app image is retained: docker-build's Delete would remove the manifest the pods still run once a
    # later `up` stops declaring the build (components/eks_app.py). Its repository is force-deleted, so a destroy
    # still removes it.
    kept = [r for r in dev.resources if r.options["retain_on_delete"]]
    assert [r.type for r in kept] == ["docker-build:index:Image"]
    repository = dev.of_type("aws:ecr/repository:Repository")
    assert all(r.inputs.get("forceDelete") for r in repository), "images would keep the repository alive"
    assert kept[0].inputs["tags"][0].startswith(repository[0].outputs["repositoryUrl"] + ":")
