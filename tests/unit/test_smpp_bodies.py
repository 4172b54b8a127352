"""data_sm and submit_multi bodies (domain/smpp_bodies.py): read as SMPP 3.4 lays them out,
and any cut or broken body is a ValueError (answered generic_nack), never another error."""

from __future__ import annotations

import pytest

from pilotgate.domain import smpp_bodies as b

DATA_SM = (
    b"\x00" + b"\x05\x00INFORM\x00" + b"\x01\x0179087964781\x00" + b"\x00\x01\x08"
    b"\x00\x17\x00\x04\x00\x00\x0e\x10"  # qos_time_to_live 3600 s
    b"\x04\x24\x00\x04\x04\x1f\x04\x40"  # message_payload "Пр" in UCS-2
)
MULTI = (
    b"\x00" + b"\x05\x00INFORM\x00" + b"\x02"
    b"\x01\x01\x0179087964781\x00" + b"\x02friends\x00"
    b"\x40\x00\x00" + b"\x00" + b"000000010000000R\x00" + b"\x01\x00\x00\x00" + b"\x02Hi"
)


def test_a_data_sm_reads_with_its_payload_and_time_to_live():
    body = b.data_sm(DATA_SM)
    assert (body.source, body.destinations) == ("INFORM", (b.Destination(1, 1, "79087964781"),))
    assert (body.esm_class, body.registered_delivery, body.data_coding) == (0, 1, 8)
    assert body.validity == "000000010000000R"
    assert dict(body.tlvs)[0x0424] == "Пр".encode("utf-16-be")


def test_a_submit_multi_reads_each_destination():
    body = b.submit_multi(MULTI)
    assert body.destinations == (
        b.Destination(1, 1, "79087964781"),
        b.Destination(0, 0, "friends", listed=True),
    )
    assert (body.esm_class, body.schedule, body.validity) == (0x40, "", "000000010000000R")
    assert (body.registered_delivery, body.short_message, body.tlvs) == (1, b"Hi", ())


@pytest.mark.parametrize("read", [b.data_sm, b.submit_multi])
def test_every_cut_body_is_a_value_error(read):
    whole = DATA_SM if read is b.data_sm else MULTI
    # Cut between two TLVs, a data_sm is still well formed (with fewer of them).
    between = {len(DATA_SM) - 16, len(DATA_SM) - 8} if read is b.data_sm else set()
    for end in set(range(len(whole))) - between:
        cut = whole[:end]
        with pytest.raises(ValueError):  # any reason, as long as it is a ValueError
            read(cut)


def test_an_unknown_dest_flag_stops_the_reading():
    with pytest.raises(ValueError, match="dest_flag 3"):
        b.submit_multi(MULTI.replace(b"\x02friends", b"\x03friends"))


def test_relative_times_and_the_unsuccess_list():
    assert b.relative_time(90_061) == "000001010101000R"
    assert b.relative_time(10**9) == "000099" + b.relative_time(10**9)[6:]
    assert b.multi_resp_body("7", [(b.Destination(1, 1, "12"), 0x0B)]) == (
        b"7\x00\x01\x01\x0112\x00\x00\x00\x00\x0b"
    )
