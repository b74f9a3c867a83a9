"""Configuration of the settings service (env prefix `WEBOS_`)."""

from pydantic import SecretStr

from webos_common.config import WebOSSettings


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
        raw = self.settings_old_master_keys.get_secret_value() if self.settings_old_master_keys else ""
        return [k.strip() for k in raw.split(",") if k.strip()]
