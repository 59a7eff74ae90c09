"""A minimal Compound File writer for tests ([MS-CFB] version 3: 512-byte sectors, 64-byte
mini sectors below the 4096-byte cutoff), and an Outlook ``.msg`` built with it ([MS-OXMSG]).
olefile only reads; this writes just enough of the format for the reader to be tested."""

from __future__ import annotations

import struct
from datetime import datetime, timezone

SECTOR, MINI, CUTOFF = 512, 64, 4096
FREE, END, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def _pad(data: bytes, size: int) -> bytes:
    return data + b"\x00" * (-len(data) % size)


def compound_file(streams: dict[str, bytes]) -> bytes:
    """A Compound File holding ``streams`` ("storage/stream" paths -> bytes, none empty)."""
    nodes: list[dict] = [{"name": "Root Entry", "type": 5, "kids": [], "data": b""}]
    by_path = {"": 0}
    for path, data in streams.items():
        parent = ""
        for depth, part in enumerate(parts := path.split("/")):
            here = "/".join(parts[: depth + 1])
            if here not in by_path:
                is_stream = depth == len(parts) - 1
                nodes.append({"name": part, "type": 2 if is_stream else 1, "kids": [], "data": data if is_stream else b""})
                by_path[here] = len(nodes) - 1
                nodes[by_path[parent]]["kids"].append(len(nodes) - 1)
            parent = here
    sectors: list[bytes] = []
    fat: list[int] = []

    def allocate(data: bytes) -> int:
        start = len(sectors)
        chunks = [data[i:i + SECTOR] for i in range(0, len(data), SECTOR)]
        for n, chunk in enumerate(chunks):
            sectors.append(_pad(chunk, SECTOR))
            fat.append(start + n + 1 if n + 1 < len(chunks) else END)
        return start

    mini_stream, mini_fat = b"", []
    for node in nodes:
        data = node["data"]
        if node["type"] != 2:
            node["start"], node["size"] = END if node["type"] == 1 else 0, 0
        elif len(data) < CUTOFF:
            start, count = len(mini_stream) // MINI, -(-len(data) // MINI)
            mini_stream += _pad(data, MINI)
            mini_fat += [start + n + 1 if n + 1 < count else END for n in range(count)]
            node["start"], node["size"] = start, len(data)
        else:
            node["start"], node["size"] = allocate(data), len(data)
    nodes[0]["start"], nodes[0]["size"] = (allocate(mini_stream), len(mini_stream)) if mini_stream else (END, 0)
    mini_fat_start = allocate(_pad(b"".join(struct.pack("<I", v) for v in mini_fat), SECTOR)) if mini_fat else END
    for node in nodes:  # each storage's children as a chain of right siblings, in CFB name order
        kids = sorted(node["kids"], key=lambda i: (len(nodes[i]["name"]), nodes[i]["name"].upper()))
        node["child"] = kids[0] if kids else NOSTREAM
        for left, right in zip(kids, kids[1:] + [None]):
            nodes[left]["right"] = right if right is not None else NOSTREAM
    directory = b""
    for node in nodes:
        name = node["name"].encode("utf-16-le") + b"\x00\x00"
        directory += struct.pack(
            "<64sHBBIII16sIQQIQ", name, len(name), node["type"], 1, NOSTREAM, node.get("right", NOSTREAM),
            node["child"], b"\x00" * 16, 0, 0, 0, node["start"], node["size"],
        )
    directory_start = allocate(_pad(directory, SECTOR))
    fat_count = 1
    while (len(sectors) + fat_count) > fat_count * (SECTOR // 4):
        fat_count += 1
    fat_sectors = list(range(len(sectors), len(sectors) + fat_count))
    fat += [FATSECT] * fat_count
    fat += [FREE] * (fat_count * (SECTOR // 4) - len(fat))
    table = b"".join(struct.pack("<I", v) for v in fat)
    sectors += [table[i:i + SECTOR] for i in range(0, len(table), SECTOR)]
    difat = fat_sectors + [FREE] * (109 - len(fat_sectors))
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"\x00" * 16, 0x3E, 3, 0xFFFE, 9, 6,
        b"\x00" * 6, 0, fat_count, directory_start, 0, CUTOFF, mini_fat_start, len(mini_fat) * 4 // SECTOR + (1 if mini_fat and len(mini_fat) * 4 % SECTOR else 0),
        END, 0,
    ) + b"".join(struct.pack("<I", v) for v in difat)
    return header + b"".join(sectors)


def _text(value: str, wide: bool = True) -> bytes:
    return (value.encode("utf-16-le") if wide else value.encode("cp1252")) + (b"\x00\x00" if wide else b"\x00")


def outlook_msg(
    *, subject: str, body: str | None, sender: str, sender_name: str, to: str, sent: datetime,
    files: dict[str, bytes] | None = None, wide: bool = True, rtf_body: bytes | None = None,
) -> bytes:
    """An Outlook ``.msg`` ([MS-OXMSG]): subject, plain body (none when ``None``), sender, one To
    recipient, the client submit time and attached files; string properties as ``001F``
    (``wide``) or ``001E``. ``rtf_body``, a compressed RTF stream, is ``PR_RTF_COMPRESSED``."""
    kind = "001F" if wide else "001E"
    ticks = int((sent - datetime(1601, 1, 1, tzinfo=timezone.utc)).total_seconds() * 10_000_000)
    files = files or {}
    properties = struct.pack("<8xIIII8x", 1, len(files), 1, len(files))
    properties += struct.pack("<IIQ", 0x00390040, 6, ticks)
    streams = {
        "__properties_version1.0": properties,
        f"__substg1.0_0037{kind}": _text(subject, wide),
        f"__substg1.0_0C1F{kind}": _text(sender, wide),
        f"__substg1.0_0C1A{kind}": _text(sender_name, wide),
        "__recip_version1.0_#00000000/__properties_version1.0": b"\x00" * 8 + struct.pack("<IIQ", 0x0C150003, 6, 1),
        f"__recip_version1.0_#00000000/__substg1.0_39FE{kind}": _text(to, wide),
    }
    if body is not None:
        streams[f"__substg1.0_1000{kind}"] = _text(body, wide)
    if rtf_body is not None:
        streams["__substg1.0_10090102"] = rtf_body
    for n, (name, data) in enumerate(files.items()):
        storage = f"__attach_version1.0_#{n:08X}"
        streams[f"{storage}/__properties_version1.0"] = b"\x00" * 8 + struct.pack("<IIQ", 0x37050003, 6, 1)
        streams[f"{storage}/__substg1.0_37010102"] = data
        streams[f"{storage}/__substg1.0_3707{kind}"] = _text(name, wide)
    return compound_file(streams)
