"""The e2e workflow: started by hand or weekly (only where the deploy secrets are set), runs `make e2e` with the
same Pulumi CLI as the CI preview, and uploads the timeline whatever happened."""
from pathlib import Path

import yaml

WORKFLOWS = Path(__file__).resolve().parent.parent / ".github" / "workflows"


def load(name: str) -> dict:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads a bare `on` key as true
    return data


def test_the_workflow_runs_make_e2e_by_hand_and_weekly_when_the_secrets_are_set():
    workflow = load("e2e.yml")
    assert set(workflow["on"]) == {"workflow_dispatch", "schedule"}
    job = workflow["jobs"]["e2e"]
    assert job["needs"] == "credentials"
    assert job["if"] == "github.event_name == 'workflow_dispatch' || needs.credentials.outputs.available == 'true'"
    assert any(step.get("run") == "make e2e" for step in job["steps"])
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "CONFLUENT_CLOUD_API_KEY", "CONFLUENT_CLOUD_API_SECRET"):
        assert job["env"][name] == f"${{{{ secrets.{name} }}}}"
        assert name in workflow["jobs"]["credentials"]["steps"][0]["run"]


def test_the_timeline_is_uploaded_even_when_the_run_failed():
    steps = load("e2e.yml")["jobs"]["e2e"]["steps"]
    (upload,) = [step for step in steps if step.get("uses", "").startswith("actions/upload-artifact")]
    assert upload["if"] == "always()" and upload["with"]["path"] == "artifacts/e2e/"


def test_the_same_pulumi_cli_as_the_ci_preview():
    def cli(workflow):
        return {step["with"]["pulumi-version"] for job in workflow["jobs"].values() for step in job.get("steps", [])
                if step.get("uses", "").startswith("pulumi/actions")}

    assert cli(load("e2e.yml")) == cli(load("ci.yml")) and len(cli(load("ci.yml"))) == 1
