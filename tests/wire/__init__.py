"""Tests of the wire layer: SigV4, the Query protocol, service models and model constraints."""
