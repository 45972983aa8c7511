"""Offline plan of a stack: resources, policies, hourly cost and modeled deploy time, without a cloud."""
