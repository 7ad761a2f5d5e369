"""Applications' own resources: the registry (ARNs, tags, resource-based policies) and the authorization API that
decides requests on them (POST /authorize)."""
