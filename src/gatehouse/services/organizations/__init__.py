"""AWS Organizations: the API (`api`), member accounts made in one transaction (`members`), and what the
authorizer reads of an organization to apply SCPs and RCPs and fill the `aws:*Org*` condition keys
(`enforcement`)."""
