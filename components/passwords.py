"""Generated database passwords: pulumi-random makes them, and they are secret from their first use on.

The special characters are the ones Redshift and OpenSearch both accept and that need no quoting in SQL,
JSON or a shell: no quotes, backslash, slash, @ or space. Two of each other class satisfy both services'
rules (upper, lower and digit; OpenSearch also wants a special character).
"""
from __future__ import annotations

import pulumi
import pulumi_random as random

LENGTH = 32  # both services allow up to 64
SPECIALS = "!#%*+-=_"


def generated_password(resource_name: str, opts: pulumi.ResourceOptions, min_special: int = 2) -> pulumi.Output[str]:
    password = random.RandomPassword(
        resource_name,
        length=LENGTH,
        special=True,
        override_special=SPECIALS,
        min_upper=2,
        min_lower=2,
        min_numeric=2,
        min_special=min_special,
        opts=opts,
    )
    return pulumi.Output.secret(password.result)
