"""vggviz.data_url against an independent reader of RFC 2397: the standard library's own ``data:`` URL handler."""

import urllib.request

from vggviz.data_url import data_url


def test_a_data_url_reads_back_as_its_bytes_and_type():
    data = bytes(range(256)) * 3 + b"\x00"  # every byte value; a length base64 pads
    with urllib.request.urlopen(data_url(data, "image/jpeg")) as response:
        assert response.read() == data
        assert response.headers.get_content_type() == "image/jpeg"
    assert data_url(b"", "image/png") == "data:image/png;base64,"
