"""The hooks other features use to show their own numbers in /metrics (search, content conversion)."""
from __future__ import annotations

from prometheus_client import generate_latest

from pageturn.metrics import Metrics


def test_gauges_and_counters_added_by_a_feature_are_read_at_each_scrape():
    metrics = Metrics()
    running = {"n": 2}
    metrics.add_gauge("pageturn_search_processes", "search processes running", lambda: running["n"])
    metrics.add_gauge("pageturn_conversion_processes", "content conversion processes by kind",
                      lambda: {("ocr",): 1, ("pdf",): 3}, labels=("kind",))
    metrics.add_counter("pageturn_search_queries", "search queries answered", lambda: {(): 7})
    text = generate_latest(metrics.registry).decode()
    assert "pageturn_search_processes 2.0" in text
    assert 'pageturn_conversion_processes{kind="ocr"} 1.0' in text
    assert 'pageturn_conversion_processes{kind="pdf"} 3.0' in text
    assert "pageturn_search_queries_total 7.0" in text
    running["n"] = 5
    assert "pageturn_search_processes 5.0" in generate_latest(metrics.registry).decode()


def test_a_failing_reader_leaves_out_its_series_and_nothing_else():
    metrics = Metrics()

    def broken() -> float:
        raise RuntimeError("pool being replaced")
    metrics.add_gauge("pageturn_broken", "a part being replaced", broken)
    metrics.add_gauge("pageturn_fine", "a part that answers", lambda: 1)
    text = generate_latest(metrics.registry).decode()
    samples = [line for line in text.splitlines() if not line.startswith("#")]
    assert "pageturn_fine 1.0" in samples
    assert not [line for line in samples if line.startswith("pageturn_broken")]
