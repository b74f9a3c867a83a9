"""The fast header parser gives exactly what nats-py's own parser gives."""

import pytest

from webos_common.nats_headers import original_parse_header_lines, parse_header_lines

CASES = [
    b"",
    b"Nats-Msg-Id: abc\r\nwebos-source: storage\r\n\r\n",
    b"traceparent: 00-" + b"a" * 32 + b"-" + b"b" * 16 + b"-01\r\nwebos-user: {\"id\":\"u\"}\r\n",
    b"Name:Value\r\nOther:\tspaced \r\n",
    b"no colon here\r\nGood: yes\r\n",
    b"Bad Name: skipped\r\nTab\tName: skipped\r\nSep\x1cName: skipped\r\nOk: 1\r\n",
    "Caf\u00e9: non-ascii name\r\nUtf: caf\u00e9 \u2713\r\n".encode(),
    b"Broken: \xff\xfe\r\nEmpty:\r\n: no name\r\n",
    b"Dup: 1\r\nDup: 2\r\n",
    b"Colon: a:b:c\r\n",
]


@pytest.mark.parametrize("raw", CASES)
def test_same_result_as_nats_py(raw: bytes) -> None:
    assert parse_header_lines(raw) == original_parse_header_lines(raw)
