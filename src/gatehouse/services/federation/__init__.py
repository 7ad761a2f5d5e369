"""Federation: identities from outside IAM (OIDC issuers, SAML identity providers) assuming roles, and Gatehouse
as a token issuer for its own principals (outbound web identity federation)."""
