"""Compute and images: EC2 instances and their volumes (IMDSv2, encryption, no SSH key), pinned container images and
the ECR repository they come from (immutable tags, scanned on push, encrypted with KMS)."""
from __future__ import annotations

from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from .kubernetes import pod_containers, pod_spec
from .resource_types import EBS_VOLUME, EC2_INSTANCE, ECR_REPOSITORY, LAUNCH_TEMPLATE
from .values import as_list, config_with_defaults, get_path, is_true

SSH_DEFAULTS: dict[str, Any] = {"allowSsh": False}


# --- EC2 and EBS --------------------------------------------------------------------------------------------------


def ec2_imdsv2(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in (EC2_INSTANCE, LAUNCH_TEMPLATE):
        return
    options = args.props.get("metadataOptions")
    if get_path(options, "httpEndpoint") == "disabled" or get_path(options, "httpTokens") == "required":
        return
    report(f"metadataOptions.httpTokens is {get_path(options, 'httpTokens')!r}; set it to 'required' (IMDSv2 only)")


def ebs_encrypted(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if args.resource_type == EC2_INSTANCE:
        if not is_true(get_path(props, "rootBlockDevice", "encrypted")):
            report("rootBlockDevice.encrypted is not true: the root volume would rely on an account default")
        for index, device in enumerate(as_list(props.get("ebsBlockDevices"))):
            if not is_true(get_path(device, "encrypted")):
                report(f"ebsBlockDevices[{index}] ({get_path(device, 'deviceName')}) is not encrypted")
    elif args.resource_type == EBS_VOLUME:
        if not is_true(props.get("encrypted")):
            report("encrypted is not true")
    elif args.resource_type == LAUNCH_TEMPLATE:
        for index, mapping in enumerate(as_list(props.get("blockDeviceMappings"))):
            ebs = get_path(mapping, "ebs")
            if ebs is not None and not is_true(get_path(ebs, "encrypted")):
                report(f"blockDeviceMappings[{index}].ebs.encrypted is not true")


def ec2_no_ssh_key(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in (EC2_INSTANCE, LAUNCH_TEMPLATE):
        return
    key_name = args.props.get("keyName")
    if key_name and not config_with_defaults(args, SSH_DEFAULTS)["allowSsh"]:
        report(f"keyName {key_name!r} is set but this stack does not allow SSH; use Session Manager")


# --- container images ---------------------------------------------------------------------------------------------


def image_problem(image: Any) -> str | None:
    """Why an image reference is not pinned, or None when it has a fixed tag or a digest."""
    if not isinstance(image, str) or not image.strip():
        return "has no image reference"
    if "@" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return f"image {image!r} has no tag (it means :latest)"
    if last.rsplit(":", 1)[1] == "latest":
        return f"image {image!r} uses the moving tag latest"
    return None


def image_pinned(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for container in pod_containers(pod_spec(args.resource_type, args.props)):
        if problem := image_problem(container.get("image")):
            report(f"container {container.get('name')!r}: {problem}; pin a version tag or a digest")


# --- ECR ------------------------------------------------------------------------------------------------------------

KMS_ENCRYPTION_TYPES = ("KMS", "KMS_DSSE")


def ecr_immutable_tags(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """A pinned tag is only a pin if nobody can push another image under it (ECR's default is MUTABLE)."""
    if args.resource_type != ECR_REPOSITORY:
        return
    mutability = args.props.get("imageTagMutability")
    if mutability != "IMMUTABLE":
        report(f"imageTagMutability is {mutability!r} (unset means MUTABLE): a push could replace the image behind a "
               f"tag the cluster runs; set IMMUTABLE")


def ecr_scan_on_push(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == ECR_REPOSITORY and not is_true(get_path(args.props, "imageScanningConfiguration", "scanOnPush")):
        report("imageScanningConfiguration.scanOnPush is not true: pushed images are not scanned for known vulnerabilities")


def ecr_kms_encryption(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != ECR_REPOSITORY:
        return
    types = [get_path(c, "encryptionType") for c in as_list(args.props.get("encryptionConfigurations"))]
    if not any(kind in KMS_ENCRYPTION_TYPES for kind in types):
        report(f"encryptionConfigurations encryptionType is {types[0] if types else None!r}: encrypt images with KMS "
               f"({' or '.join(KMS_ENCRYPTION_TYPES)})")
