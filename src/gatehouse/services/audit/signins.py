"""Console sign-ins into the trail: `Signin` tells each attempt (its injected `SigninAudit`), this makes it a
ConsoleLogin event and hands it to the trail's batch."""

from __future__ import annotations

import uuid

from gatehouse.services.audit.calls import new_event_id
from gatehouse.services.audit.records import signin_event
from gatehouse.services.audit.trail import AuditTrail
from gatehouse.services.signin import SigninAttempt


class SigninTrail:
    def __init__(self, trail: AuditTrail) -> None:
        self.trail = trail

    def sign_in_attempt(self, attempt: SigninAttempt) -> None:
        if attempt.outcome == "MfaRequired":  # the first half of one sign-in: its event comes with the code
            return
        name = None
        if attempt.user_arn and not attempt.root:
            name = attempt.user_arn.rsplit("/", 1)[-1]
        failure = None if attempt.outcome == "Success" else _MESSAGES.get(attempt.outcome, "Failed authentication")
        self.trail.record_event(signin_event(
            event_id=new_event_id(), request_id=str(uuid.uuid4()), when=attempt.at, account_id=attempt.account_id,
            user_arn=attempt.user_arn, principal_id=attempt.principal_id, user_name=name, root=attempt.root,
            outcome=attempt.outcome, mfa_used=attempt.mfa, source_ip=attempt.source_ip,
            user_agent=attempt.user_agent, error_message=failure))


# CloudTrail's errorMessage for a failed ConsoleLogin is "Failed authentication"; the others say why Gatehouse refused.
_MESSAGES = {"InvalidCredentials": "Failed authentication", "InvalidMfaCode": "Failed authentication",
             "LockedOut": "Failed authentication: the name is locked out",
             "PasswordExpired": "Password expired"}
