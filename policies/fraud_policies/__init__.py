"""The fraud-detection policy pack: its list of policies (``pack``), the rules by domain (``network``,
``compute_and_images``, ``data_stores``, ``iam``, ``kms``, ``kubernetes``, ``confluent``, ``tags_and_sizes``) and an offline
evaluator over the mocked program (``evaluate``).

Imported as ``fraud_policies`` by the pack's ``__main__.py`` (the Pulumi CLI runs it from ``policies/``) and as
``policies.fraud_policies`` from the repository root; modules refer to each other relatively, so both work.
"""
