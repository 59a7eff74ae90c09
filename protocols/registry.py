"""Finding and loading protocol definitions: one TOML file per partnership.

The product's own definitions live in ``protocols/definitions``; a partnership
adds its own by writing one more file there, or in a folder named by the
``partnership.protocols_dir`` setting. Files are validated on load, and a
malformed file fails with the file, the key and the reason.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from pydantic import ValidationError

from resdesk.protocols.schema import Protocol
from resdesk.errors import DefinitionError, UnknownProtocol

DEFINITIONS = Path(__file__).with_name("definitions")


def load_file(path: Path) -> Protocol:
    """Read and validate one definition file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DefinitionError(str(path), "", f"cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise DefinitionError(str(path), "", "is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError(str(path), "", f"is not valid TOML ({exc})") from None
    try:
        protocol = Protocol.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = _key_path(data, first["loc"])
        raise DefinitionError(str(path), key, first["msg"].removeprefix("Value error, ")) from None
    if protocol.id != path.stem:
        raise DefinitionError(str(path), "id", f"'{protocol.id}' must match the file name '{path.stem}'")
    return protocol


def _key_path(data: dict, loc: tuple) -> str:
    """A location like ('stages', 2, 'timescale') as 'stages[2].timescale' (stage 2 is the third listed)."""
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts[-1] = f"{parts[-1]}[{item}]" if parts else f"[{item}]"
        else:
            parts.append(str(item))
    return ".".join(parts)


class Registry:
    """All the protocols the product knows, by id."""

    def __init__(self, protocols: Iterable[Protocol]):
        self._by_id: dict[str, Protocol] = {}
        for protocol in protocols:
            self._by_id[protocol.id] = protocol

    @classmethod
    def from_dirs(cls, *dirs: Path | str | None) -> "Registry":
        protocols: dict[str, Protocol] = {}
        sources: dict[str, Path] = {}
        for folder in [DEFINITIONS, *[Path(d) for d in dirs if d]]:
            if not folder.is_dir():
                raise DefinitionError(str(folder), "", "is not a folder of protocol definitions")
            for path in sorted(folder.glob("*.toml")):
                protocol = load_file(path)
                if protocol.id in protocols and folder != DEFINITIONS and sources[protocol.id].parent == folder:
                    raise DefinitionError(str(path), "id", f"'{protocol.id}' is defined twice")
                protocols[protocol.id] = protocol  # a local file may replace a shipped one
                sources[protocol.id] = path
        return cls(protocols.values())

    def ids(self) -> list[str]:
        return sorted(self._by_id)

    def get(self, protocol_id: str) -> Protocol:
        try:
            return self._by_id[protocol_id]
        except KeyError:
            raise UnknownProtocol(protocol_id, self.ids()) from None

    def __iter__(self):
        return iter(self._by_id[i] for i in self.ids())

    def __len__(self) -> int:
        return len(self._by_id)


@lru_cache(maxsize=4)
def default_registry(extra_dir: str | None = None) -> Registry:
    """The shipped definitions, plus a partnership's own folder if configured."""
    return Registry.from_dirs(extra_dir)
