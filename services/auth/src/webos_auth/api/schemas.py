"""Request bodies. Every model forbids unknown fields, so a typo is a 422
that names it rather than a silently ignored value."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from webos_common.modules.manifest import owns
from webos_common.security.catalog import KERNEL_PREFIXES

Username = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{3,32}$")]
Permission = Annotated[str, StringConstraints(pattern=r"^(\*|[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*(\.\*)?)$",
                                              max_length=100)]
RoleName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{1,39}$")]
Secret = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
Token = Annotated[str, StringConstraints(min_length=8, max_length=512)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Profile(Body):
    display_name: Annotated[str, StringConstraints(max_length=80)] | None = None
    avatar_url: Annotated[str, StringConstraints(max_length=500)] | None = None
    bio: Annotated[str, StringConstraints(max_length=1000)] | None = None


class RegisterIn(Body):
    email: EmailStr
    username: Username
    password: Secret
    display_name: Annotated[str, StringConstraints(max_length=80)] | None = None
    invite: Token | None = None


class LoginIn(Body):
    login: Annotated[str, StringConstraints(min_length=1, max_length=254)] = Field(
        validation_alias=AliasChoices("login", "email", "username"))
    password: Secret
    otp: Annotated[str, StringConstraints(min_length=6, max_length=20)] | None = None  # a TOTP or recovery code


class OtpIn(Body):
    code: Annotated[str, StringConstraints(min_length=6, max_length=20)]


class PasswordConfirm(Body):
    password: Secret


class RefreshIn(Body):
    refresh_token: Token | None = None


class MeUpdate(Body):
    username: Username | None = None
    profile: Profile | None = None


class PasswordChange(Body):
    current_password: Secret
    new_password: Secret


class ForgotIn(Body):
    email: EmailStr


class ResetIn(Body):
    token: Token
    new_password: Secret


class VerifyIn(Body):
    token: Token


class UserCreate(Body):
    email: EmailStr
    username: Username
    password: Secret
    roles: list[RoleName] = ["user"]
    active: bool = True
    verified: bool = True
    profile: Profile | None = None


class UserUpdate(Body):
    email: EmailStr | None = None
    username: Username | None = None
    password: Secret | None = None
    roles: list[RoleName] | None = None
    active: bool | None = None
    verified: bool | None = None
    profile: Profile | None = None


class InviteIn(Body):
    email: EmailStr
    roles: list[RoleName] = ["user"]


class RoleCreate(Body):
    name: RoleName
    description: Annotated[str, StringConstraints(max_length=300)] = ""
    permissions: list[Permission] = []
    require_2fa: bool = False


class RoleUpdate(Body):
    name: RoleName | None = None  # a new name: renames the role and every person's grant of it
    description: Annotated[str, StringConstraints(max_length=300)] | None = None
    permissions: list[Permission] | None = None
    require_2fa: bool | None = None  # its holders must sign in with a second factor


class PermissionDecl(Body):
    name: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)+$", max_length=100)]
    description: Annotated[str, StringConstraints(max_length=300)] = ""
    group: Annotated[str, StringConstraints(max_length=64)] = ""
    default: bool = False


class PermissionsDeclare(Body):
    module: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,63}$")]
    permissions: list[PermissionDecl] = Field(max_length=200)

    @field_validator("module")
    @classmethod
    def _not_kernel(cls, value: str) -> str:
        if value in KERNEL_PREFIXES:
            raise ValueError(f"{value} is a kernel service: its permissions are declared by the platform")
        return value

    @field_validator("permissions")
    @classmethod
    def _own(cls, value: list[PermissionDecl], info: ValidationInfo) -> list[PermissionDecl]:
        module = info.data.get("module")
        foreign = [p.name for p in value if module and not owns(module, p.name)]
        if foreign:  # (a refused module name is named on its own)
            raise ValueError(f"a module declares only permissions named {module}.<action>, not {foreign}")
        return value


class AccessRequest(Body):
    message: Annotated[str, StringConstraints(max_length=1000)] = ""
    permissions: list[Permission] = Field(default=[], max_length=50)


class AccessGrant(Body):
    """The roles an admin grants in answer to an access request (added to the person's)."""

    roles: list[RoleName] = Field(min_length=1, max_length=20)


class ApiKeyCreate(Body):
    name: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    permissions: list[Permission] = Field(min_length=1)
    expires_in_days: int | None = Field(default=90, ge=1, le=3650)


class IntrospectIn(BaseModel):
    token: Annotated[str, StringConstraints(min_length=1, max_length=512)]
