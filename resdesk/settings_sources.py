"""Where settings come from, as pydantic-settings sources: the settings file (TOML), the environment
(``RESDESK_<SECTION>__<KEY>``) and systemd's credentials (``LoadCredential=``). ``resdesk.settings``
layers them (``merged``) and validates the result.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Mapping, get_origin

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, TomlConfigSettingsSource

from resdesk.errors import UsageError

__all__ = ["ENV_PREFIX", "SECRET_KEYS", "Credentials", "Environment", "SettingsFile", "merged"]

ENV_PREFIX = "RESDESK_"
SECRET_KEYS = {
    ("mailbox", "password"), ("smtp", "password"), ("mailbox", "client_secret"), ("smtp", "client_secret"),
    ("web", "secret_key"),
}


class Environment(EnvSettingsSource):
    """``RESDESK_<SECTION>__<KEY>`` from ``environ`` (pydantic-settings' nested environment variables);
    a list setting may be written comma-separated (``a.example, b.example``) as well as in JSON. A
    variable naming no key of a known section is refused, naming the variable."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]):
        self._environ = environ
        super().__init__(settings_cls, case_sensitive=False, env_prefix=ENV_PREFIX, env_nested_delimiter="__")

    def _load_env_vars(self) -> Mapping[str, str | None]:
        found = {name.lower(): value for name, value in self._environ.items()}
        sections = {name: field.annotation for name, field in self.settings_cls.model_fields.items()}
        for name in found:
            section, _, key = name[len(ENV_PREFIX):].partition("__")
            if (name.startswith(ENV_PREFIX.lower()) and key and section in sections
                    and key not in sections[section].model_fields):
                raise UsageError(f"The environment variable {name.upper()} names no setting.")
        return found

    def __call__(self) -> dict[str, Any]:
        data = super().__call__()
        for section, values in data.items():  # an empty list setting is an empty list, as when comma-separated
            fields = getattr(self.settings_cls.model_fields.get(section), "annotation", None)
            for key, value in values.items() if isinstance(values, dict) else ():
                field = getattr(fields, "model_fields", {}).get(key)
                if value == "" and field is not None and get_origin(field.annotation) is list:
                    values[key] = []
        return data

    def decode_complex_value(self, field_name: str, field: FieldInfo, value: Any) -> Any:
        if isinstance(value, str) and not value.lstrip().startswith(("[", "{")):
            return [item.strip() for item in value.split(",") if item.strip()]
        return super().decode_complex_value(field_name, field, value)


class Credentials(PydanticBaseSettingsSource):
    """Secrets handed over by systemd's ``LoadCredential=`` in ``$CREDENTIALS_DIRECTORY``:
    ``mailbox-password``, ``smtp-password``, ``mailbox-client-secret``, ``smtp-client-secret``,
    ``web-secret-key``."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]):
        super().__init__(settings_cls)
        self._folder = environ.get("CREDENTIALS_DIRECTORY")

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        found: dict[str, dict[str, str]] = {}
        for section, key in sorted(SECRET_KEYS) if self._folder else ():
            file = Path(self._folder) / f"{section}-{key.replace('_', '-')}"
            if file.is_file():
                found.setdefault(section, {})[key] = file.read_text(encoding="utf-8").strip()
        return found


class SettingsFile(TomlConfigSettingsSource):
    """The settings file (TOML), refused when it is not TOML or holds a secret."""

    def __init__(self, settings_cls: type[BaseSettings], file: Path):
        self._file = file
        super().__init__(settings_cls, toml_file=file)

    def _read_file(self, file_path) -> dict[str, Any]:
        try:
            data = super()._read_file(file_path)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise UsageError(f"The settings file {self._file} is not valid TOML ({exc}).") from None
        for section, key in SECRET_KEYS:
            if key in data.get(section, {}):
                raise UsageError(
                    f"The settings file {self._file} holds [{section}] {key}; secrets may come only from "
                    f"the environment ({ENV_PREFIX}{section.upper()}__{key.upper()})."
                )
        return data


def merged(layers: list[dict[str, Any]]) -> dict[str, Any]:
    """Sections merged key by key, each layer over those before it."""
    merged: dict[str, Any] = {}
    for layer in layers:
        for section, values in layer.items():
            if isinstance(values, dict) and isinstance(merged.get(section), dict):
                merged[section] = {**merged[section], **values}
            else:
                merged[section] = values
    return merged
