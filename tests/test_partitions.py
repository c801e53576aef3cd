"""Data partitions as the reference defines them: routes, its 400s, isolation, the client."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from dicomweb_nb import DicomWebClient, LocalServer, samples
from dicomweb_nb.client import HTTPStatusError, InvalidInput
from dicomweb_nb.server.partitions import (
    CANNOT_DISABLE,
    DISABLED,
    INVALID,
    MISSING,
    NOT_FOUND,
    PartitionsCannotBeDisabled,
)

from .helpers import JSON, stow

S, SE, RED = samples.STUDY_UID, samples.SERIES_UID_GREEN_RED, samples.INSTANCE_UID_RED
# The reference's texts, from its DicomCoreResource.resx (eeefbe4d7), pinned here on purpose.
REFERENCE_TEXTS = {
    DISABLED: "Data partitions feature is disabled.",
    MISSING: "PartitionName value is missing in the route segment.",
    INVALID: "The specified PartitionName is invalid. ",
    NOT_FOUND: "Specified PartitionName does not exist.",
}


def _files() -> list[bytes]:
    return [samples.to_bytes(samples.tutorial_dataset(n)) for n in samples.TUTORIAL_FILES]


@pytest.fixture()
def partitioned(tmp_path: Path):  # type: ignore[no-untyped-def]
    with LocalServer(tmp_path / "data", partitions=True) as server:
        yield server


def test_the_texts_are_the_references() -> None:
    for ours, theirs in REFERENCE_TEXTS.items():
        assert ours == theirs


def test_partitions_off_refuse_partition_routes(server: LocalServer) -> None:
    for r in (
        requests.get(server.partition_url("alice") + "/studies", headers=JSON),
        stow(server.partition_url("alice"), _files()[:1]),
        requests.get(server.url + "/partitions"),
    ):
        assert r.status_code == 400
        assert r.text == DISABLED
    # Un-partitioned routes work as always.
    assert stow(server.url, _files()[:1]).status_code == 200


def test_partitions_on_need_a_valid_existing_partition(partitioned: LocalServer) -> None:
    url = partitioned.url
    for r in (
        requests.get(url + "/studies", headers=JSON),
        stow(url, _files()[:1]),
        requests.get(f"{url}/studies/{S}", headers={"Accept": "*/*"}),
        requests.get(f"{url}/studies/{S}/metadata", headers=JSON),
        requests.delete(f"{url}/studies/{S}"),
    ):
        assert (r.status_code, r.text) == (400, MISSING)
    for bad in ("a" * 65, "bad%20name", "caf%C3%A9", "semi;colon"):
        r = requests.get(f"{url}/partitions/{bad}/studies", headers=JSON)
        assert (r.status_code, r.text) == (400, INVALID), bad
    for r in (
        requests.get(partitioned.partition_url("nobody") + "/studies", headers=JSON),
        requests.get(partitioned.partition_url("nobody") + f"/studies/{S}/metadata", headers=JSON),
        requests.delete(partitioned.partition_url("nobody") + f"/studies/{S}"),
    ):
        assert (r.status_code, r.text) == (400, NOT_FOUND)
    # The change feed and the health check stay outside partitions.
    assert requests.get(url + "/changefeed").status_code == 200
    assert requests.get(partitioned.base_url + "/health/check").status_code == 200


def test_the_same_uids_live_apart_in_each_partition(partitioned: LocalServer) -> None:
    alice, bob = partitioned.partition_url("alice"), partitioned.partition_url("bob-2.x_y")
    # STOW creates a partition; its retrieve URLs carry the partition path.
    r = stow(alice, _files(), study=S)
    assert r.status_code == 200
    assert r.json()["00081190"]["Value"] == [f"{alice}/studies/{S}"]
    urls = [i["00081190"]["Value"][0] for i in r.json()["00081199"]["Value"]]
    assert all(u.startswith(alice + "/studies/") for u in urls)
    assert stow(bob, _files()).status_code == 200  # the same UIDs again: no 409 across partitions
    assert stow(bob, _files()[:1]).status_code == 409  # but a repeat inside one is
    for base in (alice, bob):
        assert len(requests.get(base + "/instances", headers=JSON).json()) == 3
    meta_a = requests.get(f"{alice}/studies/{S}/metadata", headers=JSON)
    meta_b = requests.get(f"{bob}/studies/{S}/metadata", headers=JSON)
    assert meta_a.json() == meta_b.json() and meta_a.headers["ETag"] != meta_b.headers["ETag"]
    # An ETag of one partition means nothing in the other.
    cached = {**JSON, "If-None-Match": meta_a.headers["ETag"]}
    assert requests.get(f"{alice}/studies/{S}/metadata", headers=cached).status_code == 304
    assert requests.get(f"{bob}/studies/{S}/metadata", headers=cached).status_code == 200
    instance = f"/studies/{S}/series/{SE}/instances/{RED}"
    a = requests.get(alice + instance, headers={"Accept": "application/dicom; transfer-syntax=*"})
    b = requests.get(bob + instance, headers={"Accept": "application/dicom; transfer-syntax=*"})
    assert a.status_code == b.status_code == 200 and a.content == b.content
    assert (
        requests.get(alice + instance + "/frames/1", headers={"Accept": "*/*"}).status_code == 200
    )
    # Deleting in one partition leaves the other whole.
    assert requests.delete(f"{alice}/studies/{S}").status_code == 204
    assert requests.get(alice + "/studies", headers=JSON).status_code == 204
    assert len(requests.get(bob + "/instances", headers=JSON).json()) == 3
    assert requests.get(partitioned.url + "/studies", headers=JSON).status_code == 400
    # The change feed names each entry's partition.
    feed = requests.get(partitioned.url + "/changefeed", params={"limit": 100}).json()
    assert [(e["partitionName"], e["action"]) for e in feed] == [
        *[("alice", "create")] * 3,
        *[("bob-2.x_y", "create")] * 3,
        *[("alice", "delete")] * 3,
    ]
    listed = requests.get(partitioned.url + "/partitions").json()
    assert [(p["partitionKey"], p["partitionName"]) for p in listed] == [
        (1, "Microsoft.Default"),
        (2, "alice"),
        (3, "bob-2.x_y"),
    ]
    assert all(p["createdDate"].endswith("+00:00") for p in listed)


def test_a_partitioned_folder_is_refused_without_partitions(tmp_path: Path) -> None:
    with LocalServer(tmp_path / "data", partitions=True) as server:
        assert stow(server.partition_url("alice"), _files()[:1]).status_code == 200
    with pytest.raises(PartitionsCannotBeDisabled, match=CANNOT_DISABLE):
        LocalServer(tmp_path / "data").start()


def test_the_client_works_in_a_partition(partitioned: LocalServer) -> None:
    alice = DicomWebClient(partitioned.url, partition="alice")
    also_alice = DicomWebClient(partitioned.partition_url("alice") + "/")
    assert alice.url == also_alice.url == partitioned.partition_url("alice")
    assert alice.partition == also_alice.partition == "alice"
    assert alice.store_instances(_files()).status_code == 200
    assert len(also_alice.search_for_instances()) == 3
    assert [p["partitionName"] for p in alice.list_partitions()] == ["Microsoft.Default", "alice"]
    assert {c["partitionName"] for c in alice.iter_changes()} == {"alice"}
    with pytest.raises(HTTPStatusError) as caught:
        DicomWebClient(partitioned.url, partition="bob").search_for_studies()
    assert str(caught.value).startswith("Partition 'bob' does not exist on this server")
    with pytest.raises(HTTPStatusError) as caught:
        DicomWebClient(partitioned.url).search_for_studies()
    assert "give DicomWebClient(url, partition='<name>')" in str(caught.value)
    with pytest.raises(InvalidInput, match="not a partition name"):
        DicomWebClient(partitioned.url, partition="no spaces")
    with pytest.raises(InvalidInput, match="give one"):
        DicomWebClient(partitioned.partition_url("alice"), partition="bob")


def test_the_client_says_when_a_server_has_no_partitions(server: LocalServer) -> None:
    with pytest.raises(HTTPStatusError) as caught:
        DicomWebClient(server.url, partition="alice").search_for_studies()
    assert str(caught.value).startswith("This server does not use data partitions")
    with pytest.raises(HTTPStatusError, match="does not use data partitions"):
        DicomWebClient(server.url).list_partitions()


def test_workshop_mode_needs_a_token_beyond_loopback() -> None:
    from dicomweb_nb.workshop import connect_block, workshop_token

    assert workshop_token(None, "127.0.0.1") == (None, False)
    assert workshop_token("mine", "0.0.0.0") == ("mine", False)
    token, generated = workshop_token(None, "0.0.0.0")
    assert generated and token is not None and len(token) >= 20
    block = connect_block("192.0.2.7", 8080, token, generated=True)
    assert "export DICOMWEB_URL=http://192.0.2.7:8080/v1" in block
    assert f"export DICOMWEB_TOKEN={token}" in block
    assert "export DICOMWEB_PARTITION=<your-name>" in block


def test_serve_workshop_starts_partitioned_and_says_how_to_connect(tmp_path: Path) -> None:
    import subprocess
    import time

    from .helpers import free_port, serve

    port = free_port()
    proc = serve(tmp_path, port, "--workshop", stdout=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                requests.get(base + "/health/check", timeout=1).raise_for_status()
                break
            except requests.RequestException:
                time.sleep(0.05)
        assert requests.get(base + "/v1/studies", headers=JSON).text == MISSING
        assert stow(base + "/v1/partitions/alice", _files()[:1]).status_code == 200
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert "Workshop server ready" in out
    assert f"export DICOMWEB_URL=http://127.0.0.1:{port}/v1" in out
    assert "Token: none (loopback only)" in out


def test_partition_routes_answer_options_and_operations(partitioned: LocalServer) -> None:
    alice = partitioned.partition_url("alice")
    r = requests.options(alice + "/studies")
    assert r.status_code == 204
    assert {m.strip() for m in r.headers["allow"].split(",")} >= {"GET", "POST", "OPTIONS"}
    assert requests.post(alice + "/studies/$bulkupdate").status_code == 404


def test_a_partition_nobody_stored_into_is_not_found(partitioned: LocalServer) -> None:
    from dicomweb_nb import NotFound

    # Notebook 01's cleanup cell deletes the study if it is there: for a new participant the
    # partition itself is not there yet, which is a not-found too (status 400, as the reference).
    client = DicomWebClient(partitioned.url, partition="newcomer")
    with pytest.raises(NotFound) as caught:
        client.delete_study(S)
    assert caught.value.status_code == 400
