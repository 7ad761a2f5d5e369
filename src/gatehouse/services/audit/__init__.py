"""The audit trail: a CloudTrail-format record of every API call and sign-in, chained and signed so that an edit,
a deletion or a reordering is caught (`gatehouse audit verify`), and the reports built from it (LookupEvents,
credential reports, last-accessed data)."""
