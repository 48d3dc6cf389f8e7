"""kill -9 during a burst of writes loses nothing acknowledged; history ends in 410 once compacted."""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests

pytestmark = pytest.mark.slow


def test_kill_9_during_writes_keeps_every_acknowledged_write(own_server) -> None:
    s = own_server()
    base = s.url + "/api/v1/namespaces/default/configmaps"
    before = requests.get(base).json()["metadata"]["resourceVersion"]
    acked: list[str] = []
    stop = threading.Event()

    def writer(w: int) -> None:
        session = requests.Session()
        i = 0
        while not stop.is_set():
            name = f"w{w}-{i}"
            try:
                r = session.post(base, json={"metadata": {"name": name}, "data": {"i": str(i)}}, timeout=5)
            except requests.RequestException:
                return
            if r.status_code == 201:
                acked.append(name)
            i += 1

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    while len(acked) < 200:
        time.sleep(0.01)
    s.kill()  # SIGKILL mid-burst
    stop.set()
    for t in threads:
        t.join()
    s.start()  # same data root, new process
    stored = {i["metadata"]["name"] for i in requests.get(base).json()["items"]}
    assert set(acked) <= stored
    # A watch from before the crash resumes: every create since then, in revision order.
    with requests.get(base, params={"watch": "1", "resourceVersion": before, "timeoutSeconds": "2"},
                      stream=True) as r:
        events = [json.loads(line) for line in r.iter_lines() if line]
    assert {e["object"]["metadata"]["name"] for e in events} == stored
    rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert rvs == sorted(rvs) and all(e["type"] == "ADDED" for e in events)


def test_watch_from_a_compacted_revision_gets_410_expired(own_server) -> None:
    s = own_server("--compaction-interval", "0.3")
    base = s.url + "/api/v1/namespaces/default/configmaps"
    old = requests.post(base, json={"metadata": {"name": "old"}}).json()["metadata"]["resourceVersion"]
    for i in range(3):
        requests.post(base, json={"metadata": {"name": f"n{i}"}})
        time.sleep(0.4)  # let two compactions pass the revision
    with requests.get(base, params={"watch": "1", "resourceVersion": old}, stream=True) as r:
        event = json.loads(next(line for line in r.iter_lines() if line))
    assert event["type"] == "ERROR"
    assert event["object"]["code"] == 410 and event["object"]["reason"] == "Expired"
    assert event["object"]["message"].startswith(f"too old resource version: {old} (")
