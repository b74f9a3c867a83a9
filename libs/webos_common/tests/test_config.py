import pytest
from pydantic import SecretStr, ValidationError

from webos_common.config import WebOSSettings


class _Settings(WebOSSettings):
    api_secret: SecretStr = SecretStr("changeme")


def test_placeholder_secret_allowed_in_development() -> None:
    assert _Settings(env="development").api_secret.get_secret_value() == "changeme"


def test_placeholder_secret_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBOS_ENV", "production")
    with pytest.raises(ValidationError, match="WEBOS_API_SECRET"):
        _Settings()
    monkeypatch.setenv("WEBOS_API_SECRET", "a-real-long-secret-value")
    assert _Settings().api_secret.get_secret_value() == "a-real-long-secret-value"
