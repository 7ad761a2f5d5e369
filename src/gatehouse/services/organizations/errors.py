"""AWS Organizations' errors, with the wording AWS answers them with."""

from __future__ import annotations

from gatehouse.errors import AwsError


class OrgError(AwsError):
    http_status = 400


class AWSOrganizationsNotInUseException(OrgError):
    code = "AWSOrganizationsNotInUseException"

    def __init__(self) -> None:
        super().__init__("Your account is not a member of an organization.")


class AccessDeniedException(OrgError):
    code = "AccessDeniedException"

    def __init__(self) -> None:
        super().__init__("You don't have permissions to access this resource.")


class AlreadyInOrganizationException(OrgError):
    code = "AlreadyInOrganizationException"

    def __init__(self) -> None:
        super().__init__("The provided account is already a member of an organization.")


class OrganizationNotEmptyException(OrgError):
    code = "OrganizationNotEmptyException"

    def __init__(self) -> None:
        super().__init__("To delete an organization you must first remove all member accounts (except the master).")


def _not_found(code: str, what: str) -> type[OrgError]:
    message = f"You specified {what} that doesn't exist."

    def init(self: OrgError) -> None:
        OrgError.__init__(self, message)

    return type(code, (OrgError,), {"code": code, "__init__": init})


AccountNotFoundException = _not_found("AccountNotFoundException", "an account")
ParentNotFoundException = _not_found("ParentNotFoundException", "a parent")
ChildNotFoundException = _not_found("ChildNotFoundException", "a child")
OrganizationalUnitNotFoundException = _not_found("OrganizationalUnitNotFoundException", "an organizational unit")
SourceParentNotFoundException = _not_found("SourceParentNotFoundException", "a source parent")
DestinationParentNotFoundException = _not_found("DestinationParentNotFoundException", "a destination parent")


class PolicyNotFoundException(OrgError):
    code = "PolicyNotFoundException"

    def __init__(self) -> None:
        super().__init__("We can't find a policy with the PolicyId that you specified.")


RootNotFoundException = _not_found("RootNotFoundException", "a root")
TargetNotFoundException = _not_found("TargetNotFoundException", "a target")


class CreateAccountStatusNotFoundException(OrgError):
    code = "CreateAccountStatusNotFoundException"

    def __init__(self) -> None:
        super().__init__("We can't find an create account request with the CreateAccountRequestId that you specified.")


class DuplicateAccountException(OrgError):
    code = "DuplicateAccountException"

    def __init__(self) -> None:
        super().__init__("That account is already present in the specified destination.")


class DuplicateOrganizationalUnitException(OrgError):
    code = "DuplicateOrganizationalUnitException"

    def __init__(self) -> None:
        super().__init__("An OU with the same name already exists.")


class OrganizationalUnitNotEmptyException(OrgError):
    code = "OrganizationalUnitNotEmptyException"

    def __init__(self) -> None:
        super().__init__("The specified OU is not empty. Move all accounts to another root or OU, remove all child "
                         "OUs, and try again.")


class DuplicatePolicyException(OrgError):
    code = "DuplicatePolicyException"

    def __init__(self) -> None:
        super().__init__("A policy with the same name already exists.")


class DuplicatePolicyAttachmentException(OrgError):
    code = "DuplicatePolicyAttachmentException"

    def __init__(self) -> None:
        super().__init__("The selected policy is already attached to the specified target.")


class PolicyNotAttachedException(OrgError):
    code = "PolicyNotAttachedException"

    def __init__(self) -> None:
        super().__init__("The policy isn't attached to the specified target in the specified root.")


class PolicyInUseException(OrgError):
    code = "PolicyInUseException"

    def __init__(self) -> None:
        super().__init__("The policy is attached to one or more entities. You must detach it from all roots, OUs, "
                         "and accounts before performing this operation.")


class PolicyTypeNotEnabledException(OrgError):
    code = "PolicyTypeNotEnabledException"

    def __init__(self) -> None:
        super().__init__("This operation can be performed only for enabled policy types.")


class PolicyTypeAlreadyEnabledException(OrgError):
    code = "PolicyTypeAlreadyEnabledException"

    def __init__(self) -> None:
        super().__init__("The specified policy type is already enabled.")


class MalformedPolicyDocumentException(OrgError):
    code = "MalformedPolicyDocumentException"

    def __init__(self, detail: str = "") -> None:
        base = "The provided policy document does not meet the requirements of the specified policy type."
        super().__init__(f"{base} {detail}".strip())


class ConstraintViolationException(OrgError):
    code = "ConstraintViolationException"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message, details={"Reason": reason})


class InvalidInputException(OrgError):
    code = "InvalidInputException"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message, details={"Reason": reason})
