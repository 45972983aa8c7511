"""`make e2e`: the proof on a real account. A throw-away dev stack is deployed with Pulumi's Automation API, the
four fraud scenarios are driven through the app, the flags are looked for where the dashboard reads them, and
the stack is destroyed with a check that nothing is left. ``e2e.scenarios`` also serves `make demo`'s test."""
