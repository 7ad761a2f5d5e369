"""AWS-style errors: raised where they arise, rendered once by the wire layer.

Each class carries its wire code, HTTP status and fault side as AWS documents them (the botocore service
models give code and status for the modeled IAM/STS errors; the common ones come from AWS's "Common Errors"
pages). Messages are given by the raiser, in AWS's wording.
"""

from __future__ import annotations


class AwsError(Exception):
    """An error the client is told about. Never carries a stack trace or internal detail to the wire."""

    code: str = "InternalFailure"
    http_status: int = 400
    sender_fault: bool = True

    def __init__(self, message: str = "", *, code: str | None = None, http_status: int | None = None,
                 details: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}  # extra members of the error, rendered beside Code and Message
        if code is not None:
            self.code = code
        if http_status is not None:
            self.http_status = http_status

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r})"


# --- common errors (any service) ---------------------------------------------------------------------------


class InternalFailure(AwsError):
    code, http_status, sender_fault = "InternalFailure", 500, False


class ServiceUnavailable(AwsError):
    code, http_status, sender_fault = "ServiceUnavailable", 503, False


class AccessDenied(AwsError):
    code, http_status = "AccessDenied", 403


class InvalidClientTokenId(AwsError):
    code, http_status = "InvalidClientTokenId", 403

    def __init__(self, message: str = "The security token included in the request is invalid.") -> None:
        super().__init__(message)


class SignatureDoesNotMatch(AwsError):
    code, http_status = "SignatureDoesNotMatch", 403


class IncompleteSignature(AwsError):
    code, http_status = "IncompleteSignature", 400


class MissingAuthenticationToken(AwsError):
    code, http_status = "MissingAuthenticationToken", 403

    def __init__(self, message: str = "Request is missing Authentication Token") -> None:
        super().__init__(message)


class RequestExpired(AwsError):
    code, http_status = "RequestExpired", 400


class ExpiredToken(AwsError):
    code, http_status = "ExpiredToken", 403

    def __init__(self, message: str = "The security token included in the request is expired") -> None:
        super().__init__(message)


class InvalidAction(AwsError):
    code, http_status = "InvalidAction", 400


class MissingAction(AwsError):
    code, http_status = "MissingAction", 400


class MissingParameter(AwsError):
    code, http_status = "MissingParameter", 400


class ValidationError(AwsError):
    code, http_status = "ValidationError", 400


class InvalidParameterValue(AwsError):
    code, http_status = "InvalidParameterValue", 400


class InvalidParameterCombination(AwsError):
    code, http_status = "InvalidParameterCombination", 400


class MalformedQueryString(AwsError):
    code, http_status = "MalformedQueryString", 404


class NotFound(AwsError):
    """A path the server does not serve."""

    code, http_status = "NotFound", 404


class PayloadTooLarge(AwsError):
    code, http_status = "RequestEntityTooLarge", 413


class Throttling(AwsError):
    code, http_status = "Throttling", 400


class RequestTimeout(AwsError):
    """The request's body did not arrive in time (S3's code and wording; the Query services document none)."""

    code, http_status = "RequestTimeout", 400


# --- IAM (codes and statuses from the botocore model) ------------------------------------------------------


class NoSuchEntity(AwsError):
    code, http_status = "NoSuchEntity", 404


class EntityAlreadyExists(AwsError):
    code, http_status = "EntityAlreadyExists", 409


class DeleteConflict(AwsError):
    code, http_status = "DeleteConflict", 409


class LimitExceeded(AwsError):
    code, http_status = "LimitExceeded", 409


class MalformedPolicyDocument(AwsError):
    code, http_status = "MalformedPolicyDocument", 400


class InvalidInput(AwsError):
    code, http_status = "InvalidInput", 400


class UnmodifiableEntity(AwsError):
    code, http_status = "UnmodifiableEntity", 400


class ConcurrentModification(AwsError):
    code, http_status = "ConcurrentModification", 409


class EntityTemporarilyUnmodifiable(AwsError):
    code, http_status = "EntityTemporarilyUnmodifiable", 409


class PolicyNotAttachable(AwsError):
    code, http_status = "PolicyNotAttachable", 400


class ServiceFailure(AwsError):
    code, http_status, sender_fault = "ServiceFailure", 500, False


class PasswordPolicyViolation(AwsError):
    code, http_status = "PasswordPolicyViolation", 400


class InvalidAuthenticationCode(AwsError):
    code, http_status = "InvalidAuthenticationCode", 403


class InvalidUserType(AwsError):
    code, http_status = "InvalidUserType", 400


class NotSupportedService(AwsError):
    code, http_status = "NotSupportedService", 404


class ReportNotPresent(AwsError):
    code, http_status = "ReportNotPresent", 410


class ReportInProgress(AwsError):
    code, http_status = "ReportInProgress", 404


class InvalidCertificate(AwsError):
    code, http_status = "InvalidCertificate", 400


class MalformedCertificate(AwsError):
    code, http_status = "MalformedCertificate", 400


class DuplicateCertificate(AwsError):
    code, http_status = "DuplicateCertificate", 409


class KeyPairMismatch(AwsError):
    code, http_status = "KeyPairMismatch", 400


class InvalidPublicKey(AwsError):
    code, http_status = "InvalidPublicKey", 400


class DuplicateSSHPublicKey(AwsError):
    code, http_status = "DuplicateSSHPublicKey", 400


class UnrecognizedPublicKeyEncoding(AwsError):
    code, http_status = "UnrecognizedPublicKeyEncoding", 400


# --- STS -----------------------------------------------------------------------------------------------


class PackedPolicyTooLarge(AwsError):
    code, http_status = "PackedPolicyTooLarge", 400


class IDPRejectedClaim(AwsError):
    code, http_status = "IDPRejectedClaim", 403


class InvalidIdentityToken(AwsError):
    code, http_status = "InvalidIdentityToken", 400


class IDPCommunicationError(AwsError):
    code, http_status = "IDPCommunicationError", 400


class ExpiredTokenException(AwsError):
    code, http_status = "ExpiredTokenException", 400


class InvalidAuthorizationMessage(AwsError):
    code, http_status = "InvalidAuthorizationMessageException", 400


class OutboundWebIdentityFederationDisabled(AwsError):
    code, http_status = "OutboundWebIdentityFederationDisabledException", 403

    def __init__(self, message: str = "The outbound web identity federation feature is not enabled for this "
                                      "account. To use this feature, you must first enable it through the AWS "
                                      "Management Console or API.") -> None:
        super().__init__(message)


class SessionDurationEscalation(AwsError):
    code, http_status = "SessionDurationEscalationException", 403


class JWTPayloadSizeExceeded(AwsError):
    code, http_status = "JWTPayloadSizeExceededException", 400


# --- IAM: outbound web identity federation -----------------------------------------------------------------


class FeatureEnabled(AwsError):
    code, http_status = "FeatureEnabled", 409


class FeatureDisabled(AwsError):
    code, http_status = "FeatureDisabled", 404


# --- Gatehouse's own JSON operations (the resource registry; codes as AWS's JSON services name them) -------------


class ResourceNotFoundException(AwsError):
    code, http_status = "ResourceNotFoundException", 404  # as IAM models its error of that name


class ResourceAlreadyExistsException(AwsError):
    code, http_status = "ResourceAlreadyExistsException", 400


class MalformedPolicyDocumentException(AwsError):
    code, http_status = "MalformedPolicyDocumentException", 400


class InvalidParameterException(AwsError):
    code, http_status = "InvalidParameterException", 400


class LimitExceededException(AwsError):
    code, http_status = "LimitExceededException", 400
