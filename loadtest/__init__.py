"""The loopback load test (issue 17): `make loadtest`, scripts/loadtest."""
