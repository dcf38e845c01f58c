"""Events recorded one by one and in batches come out as the one-object-per-event list
sorted by Python's key did: the same rows, the same order, ties in recording order."""

from __future__ import annotations

import numpy as np

from simulator.kinds import EventKind
from simulator.output.metrics import events_table
from simulator.output.recorder import Event, Recorder


def test_batches_and_singles_sort_as_objects_did() -> None:
    rng = np.random.default_rng(4)
    rec = Recorder(10, 3)
    expected: list[Event] = []
    # Coarse times so that ties in time (and in name, platform and user) are common.
    for step in range(200):
        if step % 3 == 0:
            n = int(rng.integers(0, 6))
            times = rng.integers(0, 20, n).astype(np.float64) / 2
            users = rng.integers(0, 4, n)
            kinds = [str(k) for k in rng.choice(["critical", "unlawful"], n)]
            platform = str(rng.choice(["weibo", "wechat"]))
            details = [f"deadline={t + 24:g}h" for t in times] if step % 2 else None
            event = EventKind.ORDER if step % 2 else EventKind.REPORT
            rec.events_batch(times, event, platform, users, kinds, details)
            for i in range(n):
                detail = details[i] if details is not None else ""
                expected.append(
                    Event(float(times[i]), event, platform, int(users[i]), kinds[i], 0.0, detail)
                )
        else:
            event = EventKind(str(rng.choice(["fine", "audit", "detention", "report"])))
            single = Event(
                float(rng.integers(0, 20)) / 2,
                event,
                str(rng.choice(["weibo", "wechat", "circumvention"])),
                int(rng.integers(-1, 4)),
                "critical" if step % 5 else "",
                float(rng.integers(0, 3)),
                "x" if step % 7 == 0 else "",
            )
            rec.event(
                single.time_hours, single.event, single.platform, single.user, single.kind,
                single.amount, single.detail,
            )  # fmt: skip
            expected.append(single)
    # Python's stable sort of the objects by the key the engine used to sort them with.
    expected.sort(key=lambda e: (e.time_hours, e.event.value, e.platform, e.user))
    got = rec.events
    assert len(got) > 250
    assert got == expected
    table = events_table(rec)
    assert table["event"].tolist() == [e.event.value for e in expected]
    assert table["user"].tolist() == [e.user for e in expected]
    assert table["detail"].tolist() == [e.detail for e in expected]
    assert table["day"].tolist() == [int(e.time_hours // 24) for e in expected]
    assert str(table["user"].dtype) == "int64" and str(table["time_hours"].dtype) == "float64"


def test_no_events_is_an_empty_table() -> None:
    rec = Recorder(3, 2)
    rec.events_batch(np.zeros(0), EventKind.REPORT, "weibo", np.zeros(0, dtype=np.int64), [])
    assert rec.events == []
    assert len(events_table(rec)) == 0
