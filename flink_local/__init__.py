"""Run the Confluent Cloud Flink statements in ``flink/`` on a local Apache Flink (PyFlink), fed with CDC records.

``sql`` turns each statement file into a local step by a few documented rewrite rules, ``cdc`` describes and
validates the Debezium envelopes the CDC connector writes, ``runner`` executes the steps and collects results.
"""
