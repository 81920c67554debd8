"""Password hashing (argon2id via argon2-cffi) and the password policy."""

from __future__ import annotations

import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()

MIN_LENGTH = 8
COMMON = {"password", "12345678", "123456789", "qwerty123", "admin123", "password1", "11111111"}


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_problems(password: str, *, username: str = "") -> list[str]:
    """Every rule the password breaks, in Chinese, so the user can fix them at once."""
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(f"密码长度至少 {MIN_LENGTH} 位")
    classes = sum(
        [
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(c in string.punctuation for c in password),
        ]
    )
    if classes < 3:
        problems.append("密码须包含大写字母、小写字母、数字、特殊符号中的至少三类")
    if username and username.lower() in password.lower():
        problems.append("密码不得包含用户名")
    if password.lower() in COMMON:
        problems.append("密码过于常见")
    return problems
