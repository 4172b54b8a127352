"""The media side of a call, pure: the SDP offer we make and the answer we read (RFC 4566,
RFC 3264), and RTP packets of G.711 audio (RFC 3550, RFC 3551 payload types 0 and 8).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from pilotgate.domain import audio

#: RTP/AVP static payload types we offer, in our order of preference.
CODECS = {0: ("PCMU", "ulaw"), 8: ("PCMA", "alaw")}
PACKET_SECONDS = audio.FRAME_SAMPLES / audio.RATE  # 20 ms


@dataclass(frozen=True, slots=True, kw_only=True)
class SdpAnswer:
    host: str
    port: int
    payload_type: int  #: 0 (PCMU) or 8 (PCMA)

    @property
    def law(self) -> str:
        return CODECS[self.payload_type][1]


def offer(host: str, port: int, session: int, codecs: tuple[int, ...] = (0, 8)) -> bytes:
    """Our SDP offer: one audio stream to `host:port`, G.711 only, send-only speech."""
    formats = " ".join(str(pt) for pt in codecs)
    lines = [
        "v=0",
        f"o=pilotgate {session} {session} IN IP4 {host}",
        "s=pilotgate",
        f"c=IN IP4 {host}",
        "t=0 0",
        f"m=audio {port} RTP/AVP {formats}",
        *(f"a=rtpmap:{pt} {CODECS[pt][0]}/8000" for pt in codecs),
        "a=ptime:20",
        "a=sendrecv",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def parse_answer(body: bytes, offered: tuple[int, ...] = (0, 8)) -> SdpAnswer:
    """Where to send our audio and in which of the offered codecs; ValueError when the
    answer has no usable audio stream (port 0, no common codec, no address)."""
    host = ""
    for raw in body.decode("utf-8", "replace").splitlines():
        line = raw.strip()
        if line.startswith("c=") and not host:
            host = line.split()[-1]
        elif line.startswith("m=audio "):
            fields = line.split()
            port = int(fields[1].split("/")[0])
            formats = [int(f) for f in fields[3:] if f.isdigit()]
            common = [pt for pt in formats if pt in offered]
            if port == 0 or not common:
                raise ValueError("the answer refuses our audio stream")
            if not host:
                raise ValueError("the answer has no connection address")
            return SdpAnswer(host=host, port=port, payload_type=common[0])
    raise ValueError("the answer has no audio stream")


def packets(
    payload: bytes, payload_type: int, ssrc: int, first_sequence: int = 0, first_time: int = 0
) -> Iterator[bytes]:
    """RTP packets of 20 ms each; the last one padded with silence of the codec."""
    silence = b"\xff" if payload_type == 0 else b"\xd5"
    size = audio.FRAME_SAMPLES
    for index, start in enumerate(range(0, len(payload), size)):
        chunk = payload[start : start + size].ljust(size, silence)
        marker = 0x80 if index == 0 else 0
        header = struct.pack(
            "!BBHII",
            0x80,  # version 2, no padding, no extension, no CSRC
            marker | payload_type,
            (first_sequence + index) & 0xFFFF,
            (first_time + index * size) & 0xFFFFFFFF,
            ssrc,
        )
        yield header + chunk


def payload_of(packet: bytes) -> tuple[int, bytes]:
    """(payload type, payload) of an RTP packet; ValueError when it is not one."""
    if len(packet) < 12 or packet[0] >> 6 != 2:
        raise ValueError("not an RTP packet")
    skip = 12 + 4 * (packet[0] & 0x0F)
    return packet[1] & 0x7F, packet[skip:]
