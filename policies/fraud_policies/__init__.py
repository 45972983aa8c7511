"""The fraud-detection policy pack: rules (``rules``) and an offline evaluator over the mocked program (``evaluate``).

Imported as ``fraud_policies`` by the pack's ``__main__.py`` (the Pulumi CLI runs it from ``policies/``) and as
``policies.fraud_policies`` from the repository root; modules refer to each other relatively, so both work.
"""
