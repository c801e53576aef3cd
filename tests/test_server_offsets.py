"""Offsets beyond a 64-bit integer are a 400 in the reference's words, not a 500 from SQLite.

The reference binds ``offset`` to a C# ``long`` (src/Microsoft.Health.Dicom.Api/Models/
PaginationOptions.cs; ChangeFeedController.cs for v1's ``offset`` parameter). A larger value fails
ASP.NET's model binding ("The value '{0}' is not valid for {1}.") and its
QueryModelStateValidatorAttribute answers 400 with DicomCoreResource.resx InvalidQueryStringValue,
"The query parameter '{0}' is invalid. {1}".
"""

from __future__ import annotations

import pytest
import requests

from dicomweb_nb import LocalServer

from .helpers import JSON

TOO_BIG = str(2**63)


@pytest.mark.parametrize("path", ["/studies", "/series", "/instances", "/studies/1.2.3/series"])
def test_qido_offset_beyond_a_long(server: LocalServer, path: str) -> None:
    r = requests.get(f"{server.url}{path}", params={"offset": TOO_BIG}, headers=JSON)
    assert r.status_code == 400
    assert r.text == (
        f"The query parameter 'Offset' is invalid. The value '{TOO_BIG}' is not valid for Offset."
    )
    largest = requests.get(f"{server.url}{path}", params={"offset": 2**63 - 1}, headers=JSON)
    assert largest.status_code == 204


def test_changefeed_offset_beyond_a_long(server: LocalServer) -> None:
    r = requests.get(f"{server.base_url}/v1/changefeed", params={"offset": TOO_BIG})
    assert r.status_code == 400
    assert r.text == (
        f"The query parameter 'offset' is invalid. The value '{TOO_BIG}' is not valid for offset."
    )
    r = requests.get(f"{server.base_url}/v2/changefeed", params={"offset": "1" + "0" * 30})
    assert r.status_code == 400
    assert "The query parameter 'Offset' is invalid." in r.text
    for version in ("1", "2"):
        largest = requests.get(
            f"{server.base_url}/v{version}/changefeed", params={"offset": 2**63 - 1}
        )
        assert largest.status_code == 200 and largest.json() == []
