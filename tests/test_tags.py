"""Every AWS resource is created through the tagged provider."""
import json

import pytest


@pytest.mark.parametrize("stack", ["dev", "ha"])
def test_every_aws_resource_uses_the_provider_with_default_tags(stack, request):
    program = request.getfixturevalue(stack)
    provider = program.one("pulumi:providers:aws")
    default_tags = provider.inputs["defaultTags"]
    if isinstance(default_tags, str):  # providers receive nested config as JSON text
        default_tags = json.loads(default_tags)
    assert default_tags["tags"] == {"project": "fraud-detection", "stack": stack, "owner": program_owner(stack)}
    aws_resources = [r for r in program.resources if r.type.startswith("aws:")]
    assert aws_resources
    untagged = [r.name for r in aws_resources if not r.provider.startswith(provider.urn)]
    assert untagged == []
    aws_invokes = [i for i in program.invokes if i.token.startswith("aws:")]
    assert all(i.provider.startswith(provider.urn) for i in aws_invokes)


def program_owner(stack):
    import yaml

    from mockcloud.program import ROOT

    return yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]["fraud-detection:owner"]
