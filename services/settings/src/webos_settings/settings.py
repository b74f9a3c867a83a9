"""Configuration of the settings service (env prefix `WEBOS_`)."""

from pydantic import SecretStr

from webos_common.config import WebOSSettings
from webos_common.security.keyring import key_list


class SettingsSettings(WebOSSettings):
    service_name: str = "settings"
    # AES-GCM master key for secret settings: base64 of 32 bytes, or any passphrase (HKDF-derived).
    # A placeholder is refused outside development.
    settings_master_key: SecretStr = SecretStr("dev")
    # Earlier master keys, comma-separated, still accepted for reading until `rotate-key` has run.
    settings_old_master_keys: SecretStr | None = None
    # Register module schemas from the manifests in the module registry.
    settings_watch_registry: bool = True

    def old_master_keys(self) -> list[str]:
        return key_list(self.settings_old_master_keys)
